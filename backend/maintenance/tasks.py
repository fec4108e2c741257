from __future__ import annotations

from celery import shared_task

from backend.maintenance.services import apply_retention, sweep_stale_work
from backend.messaging.topology import RETENTION_TASK, SWEEP_TASK


# No retries: the next scheduled run is the retry, and a late sweep is worth nothing.
@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_stale_work_task() -> None:
    sweep_stale_work()


@shared_task(name=RETENTION_TASK, ignore_result=True)
def apply_retention_task() -> None:
    apply_retention()
