from prometheus_client import Counter, Gauge, Histogram

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
    "speedcam_ingest_message_errors_total",
    "Failed attempts at handling a message, by kind (unavailable: retried; permanent, unknown: parked)",
    ["topic", "kind"],
)
CAMERAS_SILENT = Gauge(
    "speedcam_cameras_silent", "Active cameras not heard from within CAMERA_SILENT_AFTER_S, or offline"
)
# The edge's own counts since it started, from its last heartbeat: measured,
# unmeasurable_<reason>, dark_frames, violations, violations_not_stamped_clock, light_level...
CAMERA_REPORTED = Gauge(
    "speedcam_camera_reported", "What each camera said in its last heartbeat", ["camera_id", "counter"]
)
HANDLE_SECONDS = Histogram("speedcam_ingest_handle_seconds", "Time from receipt to acknowledgement", ["topic"])


def serve(port: int) -> None:
    """The ingest process's Prometheus endpoint; the silent-camera count is read at scrape time."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import close_old_connections
    from django.utils import timezone
    from prometheus_client import start_http_server

    from backend.cameras.selectors import silent_cameras

    def silent() -> float:
        close_old_connections()
        try:
            cutoff = timezone.now() - timedelta(seconds=settings.CAMERA_SILENT_AFTER_S)
            return float(silent_cameras(seen_before=cutoff).count())
        except Exception:  # the database is down: say so in the value, not by failing the scrape
            return float("nan")

    CAMERAS_SILENT.set_function(silent)
    start_http_server(port, addr=settings.METRICS_ADDR)
