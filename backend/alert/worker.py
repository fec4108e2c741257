"""Entry point of the alert role: `celery -A backend.alert.worker worker -Q fcm_queue -P gevent`."""

import os

import django
import gevent
from gevent import monkey

# This process plays the alert role: settings pick its own database and broker login.
os.environ["SPEEDCAM_ROLE"] = "alert"
from celery.signals import task_postrun, worker_init
from django.conf import settings

django.setup()

from backend.alert import engine, tasks  # noqa: E402,F401  (registers the task)
from backend.alert.senders import check_configuration  # noqa: E402
from backend.common import worker_metrics  # noqa: E402
from backend.common.db import release_pooled_connections  # noqa: E402
from backend.config.celery import app  # noqa: E402
from backend.messaging.topology import FCM_QUEUE  # noqa: E402

# Fail here, before Celery starts: errors raised in worker signal handlers are only logged.
check_configuration()


@worker_init.connect
def _load_sender(**_: object) -> None:
    engine.load()
    worker_metrics.serve(app, settings.ALERT_METRICS_PORT, queues=[FCM_QUEUE.name])


@task_postrun.connect
def _let_pushes_in_flight_go_first(**_: object) -> None:
    """A task's end (its trace, Celery's success event and ack) runs without a pause, and
    under gevent every greenlet whose FCM reply came in meanwhile waits for it. Waiting here
    for the loop to go idle, after the notification is recorded and the connections are back
    in the pool, lets them go first. Measured with scripts/bench/alert at 10 greenlets: 60-65 %
    of the SDK's rate without it, 78-83 % with it (docs/perf/README.md)."""
    if monkey.is_module_patched("socket"):
        release_pooled_connections()  # not held while others run
        gevent.idle()


__all__ = ["app"]
