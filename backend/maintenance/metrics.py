from prometheus_client import Counter, Histogram

ACTIONS = Counter(
    "speedcam_maintenance_actions_total", "What the periodic jobs did, by job and action", ["job", "action"]
)
RUN_SECONDS = Histogram("speedcam_maintenance_run_seconds", "Duration of one periodic job run", ["job"])
