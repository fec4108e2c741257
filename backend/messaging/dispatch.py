"""Publishing Celery tasks by name: the main role never imports a worker's code.

Publishes go over a connection with publisher confirms, so `dispatch_*` returns
only once RabbitMQ holds the task and the MQTT message that caused it can be
acknowledged. (Confirms are not switched on for the whole Celery app: in the
gevent worker's loop a confirm wait on the consumer's connection deadlocks.)

`dispatch_ocr_many` publishes a batch of tasks and then waits for all their confirms
at once: one round trip to the broker for the batch instead of one per task.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from amqp.exceptions import MessageNacked
from celery import Celery
from kombu import Connection, Queue
from kombu.exceptions import OperationalError

from backend.common import tracing
from backend.common.events_log import log_transition
from backend.messaging.topology import ALERT_TASK, FCM_QUEUE, OCR_QUEUE, OCR_TASK, ocr_priority

logger = logging.getLogger(__name__)

_lock = threading.Lock()
CONNECTION_ERRORS = (OperationalError, AmqpConnectionError, ConnectionError, OSError)
_connection: tuple[int, Connection] | None = None
CONFIRM_TIMEOUT_S = 30.0


def _app() -> Celery:
    from backend.config.celery import app

    return app


def _send(name: str, *, kwargs: dict, queue: Queue, **options: object) -> str:
    global _connection
    app = _app()
    with _lock:
        for attempt in (1, 2):
            if _connection is None or _connection[0] != os.getpid():
                _connection = (
                    os.getpid(),
                    Connection(
                        app.conf.broker_url,
                        ssl=app.conf.broker_use_ssl,
                        transport_options={"confirm_publish": True},
                    ),
                )
            connection = _connection[1]
            try:
                connection.ensure_connection(max_retries=3)
                return app.send_task(name, kwargs=kwargs, queue=queue, connection=connection, **options).id
            except Exception as error:
                connection.release()
                _connection = None
                # A connection that died while idle (a broker restart) fails on first use:
                # one more try on a fresh one. Beyond that the caller retries the message.
                if attempt == 2 or not isinstance(error, CONNECTION_ERRORS):
                    raise
        raise AssertionError("unreachable")


def dispatch_ocr(*, detection_id: int, event_id: str, detected_speed: float, speed_limit: float) -> str:
    """Hand the OCR task to RabbitMQ; returns its task id once the broker confirmed it."""
    priority = ocr_priority(detected_speed, speed_limit)
    task_id = _send(
        OCR_TASK, kwargs={"detection_id": detection_id, "event_id": event_id}, queue=OCR_QUEUE, priority=priority
    )
    log_transition(
        logger, "ocr task dispatched", event_id=event_id, detection_id=detection_id, priority=priority, task_id=task_id
    )
    return task_id


def dispatch_alert(*, detection_id: int, event_id: str | None) -> str:
    """Hand the alert task to RabbitMQ; returns its task id once the broker confirmed it."""
    task_id = _send(ALERT_TASK, kwargs={"detection_id": detection_id, "event_id": event_id}, queue=FCM_QUEUE)
    log_transition(logger, "alert task dispatched", event_id=event_id, detection_id=detection_id, task_id=task_id)
    return task_id


@dataclass(frozen=True)
class OcrHandover:
    """One OCR task of a batch; `traceparent` names the span the task belongs to."""

    detection_id: int
    event_id: str
    detected_speed: float
    speed_limit: float
    traceparent: str | None = None


class _ConfirmedChannel:
    """A channel in confirm mode whose publishes do not wait one by one: the broker's
    acks (one may cover several deliveries) are collected, and `wait` returns once every
    publish so far is acked, or raises if one is nacked or not acked in time."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.channel = connection.channel()
        self.channel.confirm_select()
        self.published = 0  # the delivery tag of the last publish
        self.acked = 0  # every tag up to here is settled (acked or nacked)
        self._settled: set[int] = set()
        self.refused = False  # a publish was nacked
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        # Every publish on the channel takes a delivery tag, Celery's task-sent events too:
        # counted where they happen, so `wait` covers all of them.
        publish = self.channel.basic_publish

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = publish(*args, **kwargs)
            self.published += 1
            return result

        self.channel.basic_publish = counted

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self.acked = max(self.acked, delivery_tag)
        else:
            self._settled.add(delivery_tag)
        while self.acked + 1 in self._settled:
            self.acked += 1
            self._settled.discard(self.acked)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self.refused = True
        self._on_ack(delivery_tag, multiple)

    def wait(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acked < self.published:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.published - self.acked} publishes not confirmed in {timeout_s:.0f} s")
            self.connection.drain_events(timeout=remaining)
        if self.refused:
            raise MessageNacked("the broker refused a publish of this batch")


_confirmed: tuple[int, _ConfirmedChannel] | None = None


def _send_many(name: str, tasks: Sequence[tuple[dict, Queue, dict, str | None]]) -> list[str]:
    """Publish every task, then wait once for the broker to confirm them all."""
    global _confirmed
    app = _app()
    with _lock:
        for attempt in (1, 2):
            if _confirmed is None or _confirmed[0] != os.getpid():
                connection = Connection(app.conf.broker_url, ssl=app.conf.broker_use_ssl)
                connection.ensure_connection(max_retries=3)
                _confirmed = (os.getpid(), _ConfirmedChannel(connection))
            channel = _confirmed[1]
            try:
                producer = app.amqp.Producer(channel.channel, auto_declare=False)
                ids = []
                for kwargs, queue, options, traceparent in tasks:
                    with tracing.attached(traceparent):
                        ids.append(
                            app.send_task(
                                name, kwargs=kwargs, queue=queue, producer=producer, retry=False, **options
                            ).id
                        )
                channel.wait(CONFIRM_TIMEOUT_S)
                return ids
            except Exception as error:
                channel.connection.release()
                _confirmed = None
                # As in _send: a connection that died while idle gets one more try; a nack,
                # a timeout or a second failure goes to the caller, which retries the batch
                # (a task published twice is harmless: the workers' claims make it idempotent).
                if attempt == 2 or not isinstance(error, CONNECTION_ERRORS):
                    raise
        raise AssertionError("unreachable")


def dispatch_ocr_many(handovers: Sequence[OcrHandover]) -> list[str]:
    """Hand a batch of OCR tasks to RabbitMQ with one confirm round; returns their task
    ids once the broker confirmed every one of them."""
    task_ids = _send_many(
        OCR_TASK,
        [
            (
                {"detection_id": item.detection_id, "event_id": item.event_id},
                OCR_QUEUE,
                {"priority": ocr_priority(item.detected_speed, item.speed_limit)},
                item.traceparent,
            )
            for item in handovers
        ],
    )
    for item, task_id in zip(handovers, task_ids, strict=True):
        with tracing.attached(item.traceparent):  # the line belongs to its detection's trace
            log_transition(
                logger,
                "ocr task dispatched",
                event_id=item.event_id,
                detection_id=item.detection_id,
                priority=ocr_priority(item.detected_speed, item.speed_limit),
                task_id=task_id,
            )
    return task_ids


@dataclass(frozen=True)
class AlertHandover:
    """One alert task of a batch; `traceparent` names the span the task belongs to."""

    detection_id: int
    event_id: str
    traceparent: str | None = None


def dispatch_alert_many(handovers: Sequence[AlertHandover]) -> list[str]:
    """Hand a batch of alert tasks to RabbitMQ with one confirm round; returns their task
    ids once the broker confirmed every one of them."""
    task_ids = _send_many(
        ALERT_TASK,
        [
            ({"detection_id": item.detection_id, "event_id": item.event_id}, FCM_QUEUE, {}, item.traceparent)
            for item in handovers
        ],
    )
    for item, task_id in zip(handovers, task_ids, strict=True):
        with tracing.attached(item.traceparent):
            log_transition(
                logger, "alert task dispatched", event_id=item.event_id, detection_id=item.detection_id, task_id=task_id
            )
    return task_ids
