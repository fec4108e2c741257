"""Publishing a batch with one confirm round, on the real RabbitMQ."""

from __future__ import annotations

import uuid

import pytest
from amqp.exceptions import MessageNacked
from django.conf import settings
from kombu import Connection, Queue

from backend.messaging.dispatch import _ConfirmedChannel


@pytest.fixture
def connection():
    with Connection(settings.CELERY_BROKER_URL) as opened:
        opened.ensure_connection(max_retries=3)
        yield opened


def publish(channel: _ConfirmedChannel, routing_key: str, count: int) -> None:
    for index in range(count):
        channel.channel.basic_publish(channel.channel.prepare_message(str(index).encode()), routing_key=routing_key)
        channel.published += 1


def test_a_batch_returns_once_the_broker_confirmed_every_publish(connection) -> None:
    queue = Queue(f"test-confirms-{uuid.uuid4().hex[:8]}", auto_delete=False)
    bound = queue(connection.default_channel)
    bound.declare()
    try:
        channel = _ConfirmedChannel(connection)
        publish(channel, queue.name, 50)
        channel.wait(timeout_s=10)
        assert channel.acked == 50
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
