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
BATCH_SIZE = Histogram(
    "speedcam_ingest_batch_messages",
    "Messages applied together in one micro-batch (INGEST_BATCH_SIZE at most)",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)


def serve(port: int) -> None:
    """The ingest process's Prometheus endpoint; the silent-camera count is read at scrape time."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from backend.cameras.selectors import silent_cameras
    from backend.common import role_endpoint

    def silent() -> float:
        try:
            cutoff = timezone.now() - timedelta(seconds=settings.CAMERA_SILENT_AFTER_S)
            return float(silent_cameras(seen_before=cutoff).count())
        except Exception:  # the database is down: say so in the value, not by failing the scrape
            return float("nan")
        finally:
            # Each scrape is served on a thread of its own, with a connection of its own:
            # closed here, not left open until the thread's objects are collected.
            connections.close_all()

    CAMERAS_SILENT.set_function(silent)
    role_endpoint.serve(port, settings.METRICS_ADDR)
