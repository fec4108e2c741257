"""Publishing a batch with one confirm round, on the real RabbitMQ."""

from __future__ import annotations

import uuid

import pytest
from amqp.exceptions import MessageNacked
from django.conf import settings
from kombu import Connection, Exchange, Queue

from backend.messaging.dispatch import _ConfirmedChannel


@pytest.fixture
def connection():
    with Connection(settings.CELERY_BROKER_URL) as opened:
        opened.ensure_connection(max_retries=3)
        yield opened


def publish(channel: _ConfirmedChannel, routing_key: str, count: int) -> None:
    for index in range(count):
        channel.channel.basic_publish(channel.channel.prepare_message(str(index).encode()), routing_key=routing_key)


def test_a_batch_returns_once_the_broker_confirmed_every_publish(connection) -> None:
    queue = Queue(f"test-confirms-{uuid.uuid4().hex[:8]}", auto_delete=False)
    bound = queue(connection.default_channel)
    bound.declare()
    try:
        channel = _ConfirmedChannel(connection)
        publish(channel, queue.name, 50)
        channel.wait(timeout_s=10)
        assert channel.published == channel.acked == 50
        assert bound.queue_declare(passive=True).message_count == 50
    finally:
        bound.delete()


def test_a_publish_the_broker_refuses_fails_the_batch(connection) -> None:
    # A full queue that rejects further publishes: the broker nacks them.
    queue = Queue(
        f"test-nacks-{uuid.uuid4().hex[:8]}", queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"}
    )
    bound = queue(connection.default_channel)
    bound.declare()
    try:
        channel = _ConfirmedChannel(connection)
        publish(channel, queue.name, 3)
        with pytest.raises(MessageNacked):
            channel.wait(timeout_s=10)
        assert channel.acked == 3 and channel.refused
    finally:
        bound.delete()


def test_a_batch_of_tasks_returns_once_every_publish_on_its_channel_is_confirmed(connection) -> None:
    from backend.messaging import dispatch

    # A private queue: ocr_queue may have a live worker, which would dead-letter tasks for
    # detections that do not exist.
    queue = Queue(f"test-tasks-{uuid.uuid4().hex[:8]}", Exchange("test_tasks", type="direct"), routing_key="t")
    bound = queue(connection.default_channel)
    bound.declare()
    try:
        task_ids = dispatch._send_many("test.task", [({"n": n}, queue, {}, None) for n in range(3)])
        assert len(set(task_ids)) == 3
        assert bound.queue_declare(passive=True).message_count == 3
        assert dispatch._confirmed is not None
        channel = dispatch._confirmed[1]
        # Celery's task-sent events go out on the same channel: counted and confirmed as well.
        assert channel.published == channel.acked >= 3
    finally:
        bound.delete()
