"""Entry point of the alert role: `celery -A backend.alert.worker worker -Q fcm_queue -P gevent`."""

import os

import django

# This process plays the alert role: settings pick its own database and broker login.
os.environ["SPEEDCAM_ROLE"] = "alert"
from celery.signals import worker_init
from django.conf import settings

django.setup()

from backend.alert import engine, tasks  # noqa: E402,F401  (registers the task)
from backend.alert.senders import check_configuration  # noqa: E402
from backend.common import worker_metrics  # noqa: E402
from backend.config.celery import app  # noqa: E402
from backend.messaging.topology import FCM_QUEUE  # noqa: E402

# Fail here, before Celery starts: errors raised in worker signal handlers are only logged.
check_configuration()


@worker_init.connect
def _load_sender(**_: object) -> None:
    engine.load()
    worker_metrics.serve(app, settings.ALERT_METRICS_PORT, queues=[FCM_QUEUE.name])


__all__ = ["app"]
