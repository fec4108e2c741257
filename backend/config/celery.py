"""The Celery application. Each worker role imports its own tasks module
(`backend.ocr.worker`, `backend.alert.worker`), so a role's image only needs
that role's dependencies."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init, worker_process_shutdown
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.dev")

app = Celery("speedcam")
app.conf.update(settings.CELERY)


@setup_logging.connect
def _use_django_logging(**_: object) -> None:
    # Keep Celery from replacing the structured logging configured by Django.
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_init.connect
def _declare_topology(**_: object) -> None:
    # Celery declares the queues it consumes but never the dead-letter exchange;
    # without it a rejected task would vanish.
    from backend.messaging.topology import declare_topology

    with app.connection_for_write() as connection:
        declare_topology(connection)


def _trace_as_this_role() -> None:
    from backend.common import tracing

    tracing.configure_tracing(f"speedcam-{settings.SPEEDCAM_ROLE}", instrument=tracing.WORKER_INSTRUMENTATIONS)


@worker_init.connect
def _trace_this_worker(sender: object = None, **_: object) -> None:
    # A prefork parent runs no task: its children set up tracing after the fork.
    if "prefork" not in getattr(getattr(sender, "pool_cls", None), "__module__", ""):
        _trace_as_this_role()


@worker_process_init.connect
def _trace_this_child(**_: object) -> None:
    _trace_as_this_role()


@worker_process_shutdown.connect
def _flush_spans(**_: object) -> None:
    # A child leaves through os._exit: nothing runs at exit to send what is buffered.
    from backend.common import tracing

    tracing.flush()
