"""The failure policy every Celery task shares: back off, retry, then dead-letter."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from celery import Task
from celery.exceptions import Reject

from backend.common import tracing

logger = logging.getLogger(__name__)


def backoff_seconds(retries: int, *, base: float, cap: float) -> float:
    """Exponential backoff with jitter: base * 2^retries, capped, times 0.5..1."""
    return min(cap, base * (2**retries)) * random.uniform(0.5, 1.0)


def retry_or_dead_letter(
    task: Task,
    exc: BaseException,
    *,
    base: float,
    cap: float,
    on_exhausted: Callable[[str], None],
    at_least: float = 0.0,
) -> None:
    """Raise Retry while retries remain, after the backoff but never sooner than
    `at_least` seconds (a Retry-After, a claim's remaining lifetime); otherwise run
    `on_exhausted(reason)` and reject the message without requeue, so RabbitMQ
    dead-letters it to dlq_queue."""
    retries = task.request.retries
    if retries < task.max_retries:
        delay = max(backoff_seconds(retries, base=base, cap=cap), at_least)
        raise task.retry(exc=exc, countdown=delay)
    reason = f"retries exhausted after {retries + 1} attempts: {type(exc).__name__}: {exc}"
    on_exhausted(reason)
    tracing.record("task dead-lettered", task=task.name, reason=reason[:500])
    logger.error("task %s dead-lettered: %s", task.name, reason)
    raise Reject(reason, requeue=False)


def reject_invalid_arguments(task: Task, error: Exception) -> None:
    """A task whose arguments break the contract can never succeed: dead-letter it."""
    tracing.record("task dead-lettered", task=task.name, reason=f"invalid arguments: {error}"[:500])
    logger.error("task %s rejected: invalid arguments: %s", task.name, error)
    raise Reject(f"invalid arguments: {error}", requeue=False)
