"""Entry point of the OCR role: `celery -A backend.ocr.worker worker -Q ocr_queue -P prefork`."""

import django
from celery.signals import worker_process_init

django.setup()

from backend.config.celery import app  # noqa: E402
from backend.ocr import engine, tasks  # noqa: E402,F401  (registers the task)


@worker_process_init.connect
def _load_engine(**_: object) -> None:
    # Once per child process, after the fork: model memory and threads are per process.
    engine.load()


__all__ = ["app"]
