"""What both ingest modes do with one message: validate, apply, count, decide the ack.

The MQTT subscriber and the AMQP consumer differ only in how they receive and
acknowledge; everything a message means is decided here, once.

No message may hold the queue. Each failure is one of three kinds:

* the database or the broker is unavailable: retried in place, then redelivered, for
  as long as it takes (nothing is lost while a dependency is down);
* the message can never be stored (invalid, out of range, a data or integrity error):
  parked at once in the rejected-events store with its reason, and acknowledged;
* anything else: retried up to INGEST_MAX_ATTEMPTS times, then parked the same way.

Messages come in micro-batches (`Batch`: up to INGEST_BATCH_SIZE, or what arrived within
INGEST_BATCH_WAIT_MS of the first). A batch's detections/new events are stored in one
transaction and handed to OCR with one publish-confirm round, and its completions are
handed to the alert role alike; the caller acknowledges each message only after that.
An event that fails its checks is parked alone, and a batch that fails as a whole for
any reason but an outage is applied again message by message, so one bad message never
takes its batch down with it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

from amqp.exceptions import ConnectionError as AmqpConnectionError
from amqp.exceptions import MessageNacked
from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, close_old_connections, connections
from kombu.exceptions import OperationalError as KombuOperationalError

from backend.contracts.events import (
    TOPIC_CAMERA_STATUS,
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_DETECTIONS_NEW,
    TOPIC_FCM_TOKEN_RETIRED,
    EventRejected,
    topic_kind,
)
from backend.detections.selectors import rejected_event_by_id
from backend.detections.services import record_rejected_event, record_replay
from backend.ingest import metrics
from backend.ingest.services import (
    Outcome,
    handle_camera_status,
    handle_detection_completed,
    handle_detection_new,
    handle_detections_completed,
    handle_detections_new,
    handle_fcm_token_retired,
)
from backend.messaging.mqtt import MqttPublishError

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[bytes, str | None], Outcome]] = {
    TOPIC_DETECTIONS_NEW: handle_detection_new,
    TOPIC_DETECTIONS_COMPLETED: handle_detection_completed,
    TOPIC_FCM_TOKEN_RETIRED: handle_fcm_token_retired,
    TOPIC_CAMERA_STATUS: handle_camera_status,
}
BatchHandler = Callable[[Sequence[tuple[bytes, str | None]]], list[Outcome | EventRejected]]
# Topics whose messages in a batch are applied together (one transaction, one confirm round).
BATCH_HANDLERS: dict[str, BatchHandler] = {
    TOPIC_DETECTIONS_NEW: handle_detections_new,
    TOPIC_DETECTIONS_COMPLETED: handle_detections_completed,
}
# In-place retries stay well inside the MQTT keepalive and the AMQP heartbeat:
# the network loop is blocked meanwhile.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)

# MySQL/MariaDB error codes that mean "the server is unreachable, busy or not deployed
# right", not "this data is wrong": connection refused/lost/gone, too many connections,
# shutdown, lock timeouts; and access denied or a missing table or column (code deployed
# before its migration or grants), which a fix on the server side cures for every message.
_TRANSIENT_DB_CODES = frozenset(
    {1040, 1044, 1045, 1053, 1054, 1142, 1143, 1146, 1205, 1213, 1317, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
)


class Failure(Enum):
    UNAVAILABLE = "unavailable"  # a dependency is down: keep the message, try again
    PERMANENT = "permanent"  # this message can never be stored: park it now
    UNKNOWN = "unknown"  # park it after a bounded number of attempts


def classify(error: BaseException) -> Failure:
    if isinstance(error, (DataError, IntegrityError, ValueError, TypeError, OverflowError, UnicodeError)):
        return Failure.PERMANENT
    if isinstance(error, DatabaseError):
        code = error.args[0] if error.args and isinstance(error.args[0], int) else None
        if code is None or code in _TRANSIENT_DB_CODES or code >= 2000:
            return Failure.UNAVAILABLE
        return Failure.PERMANENT
    if isinstance(
        error,
        (
            KombuOperationalError,
            AmqpConnectionError,
            MessageNacked,  # the broker refused a task for now (a queue at its limit)
            MqttPublishError,
            ConnectionError,
            TimeoutError,
            socket.error,
        ),
    ):
        return Failure.UNAVAILABLE
    return Failure.UNKNOWN


@dataclass(frozen=True)
class Received:
    """One message as it arrived, with what its topic says (read once)."""

    topic: str
    payload: bytes
    kind: str  # the contract topic, e.g. detections/new
    camera_id: str | None  # the camera the topic names, if any
    label: str  # the metric label: the contract topic, or "other"

    @classmethod
    def of(cls, topic: str, payload: bytes) -> Received:
        kind, camera_id = topic_kind(topic)
        return cls(topic, payload, kind, camera_id, kind if kind in HANDLERS else "other")


def handle_message(topic: str, payload: bytes, *, stopping: threading.Event) -> bool:
    """Apply one message. True: acknowledge it (done, or parked for good).
    False: do not; it must be redelivered (a dependency is down, retries used up)."""
    (acknowledge,) = handle_batch([Received.of(topic, payload)], stopping=stopping)
    return acknowledge


def handle_batch(messages: Sequence[Received], *, stopping: threading.Event) -> list[bool]:
    """Apply a batch of messages; for each, in order, whether to acknowledge it (see
    handle_message). New detections go together, and so do completions; the rest one by one."""
    started = time.monotonic()
    metrics.BATCH_SIZE.observe(len(messages))
    for message in messages:
        metrics.MESSAGES_RECEIVED.labels(message.label).inc()
    decisions: dict[int, bool] = {}
    for kind, handler in BATCH_HANDLERS.items():
        indexes = [index for index, message in enumerate(messages) if message.kind == kind]
        if len(indexes) > 1:
            decisions.update(_apply_together(handler, messages, indexes, stopping))
    for index, message in enumerate(messages):
        if index not in decisions:
            decisions[index] = _apply(message, stopping)
    elapsed = time.monotonic() - started
    for index, message in enumerate(messages):
        if decisions[index]:
            metrics.HANDLE_SECONDS.labels(message.label).observe(elapsed)
    return [decisions[index] for index in range(len(messages))]


def _apply_together(
    handler: BatchHandler, messages: Sequence[Received], indexes: list[int], stopping: threading.Event
) -> dict[int, bool]:
    """The messages of one topic in a batch, in one go. Returns a decision per index, or
    none at all when the batch failed for a reason other than an outage: the caller then
    applies each message on its own, which parks the one at fault."""
    batch = [messages[index] for index in indexes]
    label = batch[0].label
    delays = iter(RETRY_DELAYS_S)
    while True:
        close_old_connections()
        try:
            results = handler([(message.payload, message.camera_id) for message in batch])
        except Exception as error:
            failure = classify(error)
            if failure is not Failure.UNAVAILABLE:
                logger.warning("a batch of %d %s failed (%r); applying them one by one", len(batch), label, error)
                connections.close_all()
                return {}
            metrics.MESSAGE_ERRORS.labels(label, failure.value).inc(len(batch))
            logger.exception("handling a batch of %d %s failed (%s)", len(batch), label, failure.value)
            connections.close_all()
            delay = next(delays, None)
            if delay is None or stopping.wait(delay):
                return dict.fromkeys(indexes, False)
            continue
        decisions = {}
        for index, message, result in zip(indexes, batch, results, strict=True):
            if isinstance(result, EventRejected):
                decisions[index] = park(message, result)
            else:
                metrics.MESSAGES_PROCESSED.labels(message.label, result.value).inc()
                decisions[index] = True
        return decisions


Token = TypeVar("Token")


@dataclass
class Batch(Generic[Token]):
    """Messages waiting to be applied together, each with what acknowledges it: full at
    `size`, due once the first has waited `wait_s`."""

    size: int
    wait_s: float
    items: list[tuple[Token, Received]] = field(default_factory=list)
    _first_at: float = 0.0

    def add(self, token: Token, topic: str, payload: bytes) -> None:
        if not self.items:
            self._first_at = time.monotonic()
        self.items.append((token, Received.of(topic, payload)))

    @property
    def full(self) -> bool:
        return len(self.items) >= self.size

    def seconds_left(self, idle_s: float) -> float:
        """How long the caller may wait for more: until due, or `idle_s` when empty."""
        if not self.items:
            return idle_s
        return max(0.0, self._first_at + self.wait_s - time.monotonic())

    @property
    def due(self) -> bool:
        return bool(self.items) and (self.full or self.seconds_left(0.0) == 0.0)

    def apply(self, stopping: threading.Event) -> list[tuple[Token, bool]]:
        """Apply and empty the batch: each message's token with whether to acknowledge it."""
        items, self.items = self.items, []
        decisions = handle_batch([message for _, message in items], stopping=stopping)
        return [(token, decision) for (token, _), decision in zip(items, decisions, strict=True)]

    def drop(self) -> None:
        """Forget the batch unapplied: its connection is gone, the broker will redeliver it."""
        self.items = []


def _apply(message: Received, stopping: threading.Event) -> bool:
    handler = HANDLERS.get(message.kind)
    if handler is None:
        return park(message, EventRejected("unknown_topic", f"no handler for topic {message.topic[:100]!r}"))
    label = message.label
    delays = iter(RETRY_DELAYS_S)
    attempts = 0
    while True:
        attempts += 1
        close_old_connections()
        try:
            outcome = handler(message.payload, message.camera_id)
        except EventRejected as rejection:
            return park(message, rejection, attempts=attempts)
        except Exception as error:
            failure = classify(error)
            metrics.MESSAGE_ERRORS.labels(label, failure.value).inc()
            if failure is Failure.PERMANENT:
                logger.warning("handling %s failed for good: %r", label, error)
                return park(message, _rejection_for(error), attempts=attempts)
            logger.exception("handling %s failed (attempt %d, %s)", label, attempts, failure.value)
            connections.close_all()
            if failure is Failure.UNKNOWN and attempts >= settings.INGEST_MAX_ATTEMPTS:
                return park(
                    message,
                    EventRejected("failed_repeatedly", f"{attempts} attempts, last: {error!r}"[:2000]),
                    attempts=attempts,
                )
            delay = next(delays, None)
            if delay is None or stopping.wait(delay):
                return False
            continue
        metrics.MESSAGES_PROCESSED.labels(label, outcome.value).inc()
        return True


def _rejection_for(error: BaseException) -> EventRejected:
    for cls, reason in (
        (DataError, "data_error"),
        (IntegrityError, "integrity_error"),
        (OverflowError, "out_of_range"),
    ):
        if isinstance(error, cls):
            return EventRejected(reason, repr(error)[:2000])
    return EventRejected(f"unstorable_{type(error).__name__}"[:100], repr(error)[:2000])


def park(message: Received, rejection: EventRejected, *, attempts: int = 1) -> bool:
    """Record the message in the rejected-events store, count and log it. True once it is
    recorded (acknowledge it); False if the store is unavailable (redeliver it)."""
    try:
        record_rejected_event(
            topic=message.topic,
            camera_id=message.camera_id,
            reason=rejection.reason,
            detail=rejection.detail,
            payload=message.payload,
            attempts=attempts,
        )
    except Exception:
        logger.exception("rejected message could not be recorded; it will be redelivered")
        connections.close_all()
        return False
    metrics.MESSAGES_REJECTED.labels(message.label, rejection.reason).inc()
    logger.warning(
        "message rejected",
        extra={
            "topic": message.topic[:255],
            "camera_id": message.camera_id,
            "reason": rejection.reason,
            "detail": rejection.detail[:1000],
            "payload_head": message.payload[:200].decode("utf-8", "replace"),
        },
    )
    return True


def replay_rejected(rejected_id: int) -> str:
    """Apply a parked message again (its cause fixed: a camera provisioned, a window widened).
    Returns and records the outcome; a message rejected again stays parked, with the new
    reason in its outcome."""
    rejected = rejected_event_by_id(rejected_id)
    if rejected is None:
        raise LookupError(f"no rejected event {rejected_id}")
    if rejected.payload_truncated:
        outcome = "not replayable: the payload was truncated when it was parked"
        record_replay(rejected, outcome=outcome)
        return outcome
    message = Received.of(rejected.topic, bytes(rejected.payload))
    handler = HANDLERS.get(message.kind)
    if handler is None:
        outcome = f"rejected again: unknown_topic {rejected.topic[:100]!r}"
    else:
        try:
            outcome = f"applied: {handler(message.payload, message.camera_id).value}"
        except EventRejected as rejection:
            outcome = f"rejected again: {rejection.reason}: {rejection.detail}"
    record_replay(rejected, outcome=outcome)
    logger.info("rejected event replayed", extra={"rejected_id": rejected.pk, "outcome": outcome[:255]})
    return outcome
