"""Publishing Celery tasks by name: the main role never imports a worker's code.

Publishes go over a connection with publisher confirms, so `dispatch_*` returns
only once RabbitMQ holds the task and the MQTT message that caused it can be
acknowledged. (Confirms are not switched on for the whole Celery app: in the
gevent worker's loop a confirm wait on the consumer's connection deadlocks.)
"""

from __future__ import annotations

import logging
import os
import threading

from amqp.exceptions import ConnectionError as AmqpConnectionError
from celery import Celery
from kombu import Connection, Queue
from kombu.exceptions import OperationalError

from backend.common.events_log import log_transition
from backend.messaging.topology import ALERT_TASK, FCM_QUEUE, OCR_QUEUE, OCR_TASK, ocr_priority

logger = logging.getLogger(__name__)

_lock = threading.Lock()
CONNECTION_ERRORS = (OperationalError, AmqpConnectionError, ConnectionError, OSError)
_connection: tuple[int, Connection] | None = None


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
