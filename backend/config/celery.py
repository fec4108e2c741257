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
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)
from django.conf import settings
from django.db import close_old_connections

from backend.messaging.topology import celery_config

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.dev")


def worker_concurrency(role: str) -> int:
    """Processes (OCR, prefork) or greenlets (alert, gevent) of a role's worker; the
    maintenance worker runs one job at a time."""
    return {"ocr": settings.OCR_CONCURRENCY, "alert": settings.ALERT_CONCURRENCY}.get(role, 1)


# Celery's Django fixup closes every database connection before and after each task
# unless CELERY_DB_REUSE_MAX is set (celery#9824 went back to that): a prefork worker then
# connects to each database afresh for every task, round trips and all, whatever
# CONN_MAX_AGE says. So the fixup is told to recycle only after this many tasks, and
# Django's own rule runs around each task instead, as it does around each request.
DB_REUSE_MAX_TASKS = 1_000_000


def configuration() -> dict[str, Any]:
    return {
        "CELERY_DB_REUSE_MAX": DB_REUSE_MAX_TASKS,
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


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**_: object) -> None:
    # Closes a connection past CONN_MAX_AGE or one that failed (CONN_HEALTH_CHECKS then pings
    # a kept one before its first query): a restarted database costs one task nothing. With a
    # pool (CONN_MAX_AGE 0) every connection goes back to it when its task ends.
    close_old_connections()


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
