from prometheus_client import Counter, Histogram

PUSHES = Counter("speedcam_alert_pushes_total", "Violation alerts by outcome", ["outcome"])
DETECTED_TO_PUSH_SECONDS = Histogram(
    "speedcam_alert_detected_to_push_seconds",
    "From the camera's detection time to FCM accepting the push",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
