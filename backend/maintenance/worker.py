"""Entry point of the main role's periodic jobs:
`celery -A backend.maintenance.worker worker -Q maintenance_queue -P solo` and, once
per deployment, `celery -A backend.maintenance.worker beat` (the schedule lives in
backend.messaging.topology)."""

import os

import django

# This process plays the maintenance role: settings pick its own database and broker login.
os.environ["SPEEDCAM_ROLE"] = "maintenance"
from celery.signals import worker_init
from django.conf import settings

django.setup()

from backend.common import worker_metrics  # noqa: E402
from backend.config.celery import app  # noqa: E402
from backend.maintenance import tasks  # noqa: E402,F401  (registers the tasks)
from backend.messaging.topology import ALL_QUEUES  # noqa: E402


@worker_init.connect
def _serve_metrics(**_: object) -> None:
    # The maintenance worker reports every queue's depth, the dead-letter queue's included.
    worker_metrics.serve(app, settings.MAINTENANCE_METRICS_PORT, queues=[queue.name for queue in ALL_QUEUES])


__all__ = ["app"]
