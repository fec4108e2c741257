"""The Celery application, configured from Django settings alone.

Each worker role imports its own tasks module (`backend.ocr.worker`,
`backend.alert.worker`, `backend.maintenance.worker`), so a role's image only needs that
role's dependencies. Queues, routing and delivery guarantees come from
`backend.messaging.topology`; what is per deployment or per role (broker, time limits,
heartbeat, the pool's size) from settings: the entry scripts pass only the pool's kind.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init, worker_process_shutdown
from django.conf import settings

from backend.messaging.topology import celery_config

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.dev")


def worker_concurrency(role: str) -> int:
    """Processes (OCR, prefork) or greenlets (alert, gevent) of a role's worker; the
    maintenance worker runs one job at a time."""
    return {"ocr": settings.OCR_CONCURRENCY, "alert": settings.ALERT_CONCURRENCY}.get(role, 1)


def configuration() -> dict[str, Any]:
    return {
        **celery_config(
            broker_url=settings.CELERY_BROKER_URL,
            broker_use_ssl=settings.BROKER_USE_SSL,
            ocr_time_limit_s=settings.OCR_TIME_LIMIT_S,
            alert_time_limit_s=settings.ALERT_TIME_LIMIT_S,
            broker_heartbeat_s=settings.BROKER_HEARTBEAT_S,
            sweep_interval_s=settings.SWEEP_INTERVAL_S,
            retention_interval_s=settings.RETENTION_INTERVAL_S,
            hourly_counts_interval_s=settings.HOURLY_COUNTS_INTERVAL_S,
        ),
        "worker_concurrency": worker_concurrency(settings.SPEEDCAM_ROLE),
    }


app = Celery("speedcam")
app.conf.update(configuration())


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
