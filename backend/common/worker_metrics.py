"""Prometheus metrics of the Celery workers: task outcomes and durations by task, and
the depth of the queues the worker serves, on a per-worker HTTP endpoint.

The prefork OCR worker runs tasks in child processes; with PROMETHEUS_MULTIPROC_DIR
set (scripts/start_ocr_worker.sh does) the children write their samples there and
the parent's endpoint aggregates them. The same endpoint answers /ready
(backend.common.role_endpoint) once the worker consumes its queues.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from celery import Celery, bootsteps
from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client import multiprocess as prometheus_multiprocess

from backend.common import role_endpoint
from backend.messaging.metrics import QueueDepthCollector

TASKS = Counter("speedcam_tasks_total", "Celery task runs by final state", ["task", "state"])
TASK_SECONDS = Histogram(
    "speedcam_task_seconds",
    "Time a task run took",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
_started: dict[str, float] = {}


def serve(app: Celery, port: int, *, queues: Iterable[str]) -> None:
    """Start this worker's endpoint, metrics and /ready (port 0: none), and count its task runs.
    Call it from `worker_init`, before the worker builds its consumer."""
    app.steps["consumer"].add(_Consuming)
    task_prerun.connect(_task_started, weak=False)
    task_postrun.connect(_task_finished, weak=False)
    if not port:
        return
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        worker_process_shutdown.connect(_child_exited, weak=False)
    registry.register(QueueDepthCollector(settings.CELERY_BROKER_URL, queues, ssl=settings.BROKER_USE_SSL))
    role_endpoint.serve(port, settings.METRICS_ADDR, registry)


class _Consuming(bootsteps.StartStopStep):
    """Ready while the consumer consumes: Celery stops the consumer's steps when the broker
    connection drops, and starts them again once it is back."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer: object) -> None:
        role_endpoint.mark_consuming(True)

    def stop(self, consumer: object) -> None:
        role_endpoint.mark_consuming(False)

    def shutdown(self, consumer: object) -> None:
        role_endpoint.mark_consuming(False)


def _task_started(task_id: str, task: object, **_: object) -> None:
    _started[task_id] = time.monotonic()


def _task_finished(task_id: str, task: object, state: str | None = None, **_: object) -> None:
    name = getattr(task, "name", "unknown")
    TASKS.labels(name, state or "UNKNOWN").inc()
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(name).observe(time.monotonic() - started)


def _child_exited(pid: int | None = None, **_: object) -> None:
    prometheus_multiprocess.mark_process_dead(pid or os.getpid())
