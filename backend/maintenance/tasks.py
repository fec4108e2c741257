from __future__ import annotations

from celery import shared_task

from backend.maintenance.services import apply_retention, refresh_hourly_counts, sweep_stale_work
from backend.messaging.topology import HOURLY_COUNTS_TASK, RETENTION_TASK, SWEEP_TASK


# No retries: the next scheduled run is the retry, and a late sweep is worth nothing.
@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_stale_work_task() -> None:
    sweep_stale_work()


@shared_task(name=RETENTION_TASK, ignore_result=True)
def apply_retention_task() -> None:
    apply_retention()


@shared_task(name=HOURLY_COUNTS_TASK, ignore_result=True)
def refresh_hourly_counts_task() -> None:
    refresh_hourly_counts()
