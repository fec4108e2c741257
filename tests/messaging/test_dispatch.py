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


def test_dispatching_a_batch_returns_once_every_publish_on_its_channel_is_confirmed() -> None:
    from backend.messaging import dispatch

    # Detections that do not exist: a worker that takes these tasks finds nothing to do.
    handovers = [
        dispatch.OcrHandover(
            detection_id=2_000_000_000 + index, event_id=str(uuid.uuid4()), detected_speed=90, speed_limit=60
        )
        for index in range(3)
    ]
    assert len(set(dispatch.dispatch_ocr_many(handovers))) == 3
    assert dispatch._confirmed is not None
    channel = dispatch._confirmed[1]
    # Celery's task-sent events go out on the same channel: counted and confirmed as well.
    assert channel.published == channel.acked >= 3
