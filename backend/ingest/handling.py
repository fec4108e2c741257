"""What both ingest modes do with one message: validate, apply, count, decide the ack.

The MQTT subscriber and the AMQP consumer differ only in how they receive and
acknowledge; everything a message means is decided here, once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connections

from backend.contracts.events import (
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_DETECTIONS_NEW,
    TOPIC_FCM_TOKEN_RETIRED,
    EventRejected,
)
from backend.ingest import metrics
from backend.ingest.services import (
    Outcome,
    handle_detection_completed,
    handle_detection_new,
    handle_fcm_token_retired,
)

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[bytes], Outcome]] = {
    TOPIC_DETECTIONS_NEW: handle_detection_new,
    TOPIC_DETECTIONS_COMPLETED: handle_detection_completed,
    TOPIC_FCM_TOKEN_RETIRED: handle_fcm_token_retired,
}
# In-place retries stay well inside the MQTT keepalive and the AMQP heartbeat:
# the network loop is blocked meanwhile.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)


def handle_message(topic: str, payload: bytes, *, stopping: threading.Event) -> bool:
    """Apply one message. True: acknowledge it (done, or invalid for good).
    False: do not; it must be redelivered (transient failure, retries used up)."""
    started = time.monotonic()
    metrics.MESSAGES_RECEIVED.labels(topic).inc()
    acknowledge = _apply(topic, payload, stopping)
    if acknowledge:
        metrics.HANDLE_SECONDS.labels(topic).observe(time.monotonic() - started)
    return acknowledge


def _apply(topic: str, payload: bytes, stopping: threading.Event) -> bool:
    handler = HANDLERS.get(topic)
    if handler is None:
        _reject(topic, EventRejected("unknown_topic", f"no handler for topic {topic!r}"), payload)
        return True
    for attempt, delay in enumerate((*RETRY_DELAYS_S, None)):
        close_old_connections()
        try:
            outcome = handler(payload)
        except EventRejected as rejection:
            _reject(topic, rejection, payload)
            return True
        except Exception:
            metrics.MESSAGE_ERRORS.labels(topic).inc()
            logger.exception("handling %s failed (attempt %d)", topic, attempt + 1)
            connections.close_all()
            if delay is None or stopping.wait(delay):
                return False
            continue
        metrics.MESSAGES_PROCESSED.labels(topic, outcome.value).inc()
        return True
    return False


def _reject(topic: str, rejection: EventRejected, payload: bytes) -> None:
    metrics.MESSAGES_REJECTED.labels(topic, rejection.reason).inc()
    logger.warning(
        "message rejected",
        extra={
            "topic": topic,
            "reason": rejection.reason,
            "detail": rejection.detail,
            "payload_head": payload[:200].decode("utf-8", "replace"),
        },
    )
