from prometheus_client import Counter, Histogram

MESSAGES_RECEIVED = Counter(
    "speedcam_ingest_messages_received_total", "MQTT messages received by the subscriber", ["topic"]
)
MESSAGES_REJECTED = Counter(
    "speedcam_ingest_messages_rejected_total", "MQTT messages rejected as invalid", ["topic", "reason"]
)
MESSAGES_PROCESSED = Counter(
    "speedcam_ingest_messages_processed_total", "MQTT messages whose effect was committed", ["topic", "outcome"]
)
MESSAGE_ERRORS = Counter(
    "speedcam_ingest_message_errors_total", "Transient failures while handling a message (retried)", ["topic"]
)
HANDLE_SECONDS = Histogram("speedcam_ingest_handle_seconds", "Time from receipt to acknowledgement", ["topic"])
