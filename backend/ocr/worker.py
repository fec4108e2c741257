"""Entry point of the OCR role: `celery -A backend.ocr.worker worker -Q ocr_queue -P prefork`."""

import os

import django

# This process plays the ocr role: settings pick its own database and broker login.
os.environ["SPEEDCAM_ROLE"] = "ocr"
from celery.signals import worker_init, worker_process_init
from django.conf import settings

django.setup()

from backend.common import worker_metrics  # noqa: E402
from backend.config.celery import app  # noqa: E402
from backend.messaging.topology import OCR_QUEUE  # noqa: E402
from backend.ocr import engine, tasks  # noqa: E402,F401  (registers the task)
from backend.ocr.readers import check_configuration, preload_runtime  # noqa: E402

# Fail here, before Celery starts: errors raised in worker signal handlers are only logged.
check_configuration()
preload_runtime()  # before the fork: the children share torch's pages


@worker_init.connect
def _serve_metrics(**_: object) -> None:
    worker_metrics.serve(app, settings.OCR_METRICS_PORT, queues=[OCR_QUEUE.name])


@worker_process_init.connect
def _load_engine(**_: object) -> None:
    # Once per child process, after the fork: model memory and threads are per process.
    engine.load()


__all__ = ["app"]
