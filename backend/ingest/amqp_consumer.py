"""Scale-out ingest: `python manage.py run_amqp_ingest` (INGEST_MODE=amqp).

An MQTT client id belongs to one connection at a time, so the MQTT subscriber
cannot be scaled out. This consumer reads the same messages from the durable
`ingest_queue` bound to amq.topic instead; any number of them, on any hosts,
share the load as competing consumers. Validation, idempotency and the ack rule
are the MQTT subscriber's (backend.ingest.handling): messages are applied in the same
micro-batches, each acknowledged only after its effect is committed; a transient failure
requeues it. A batch still waiting when the connection drops is redelivered by the broker.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from kombu import Connection, Message
from kombu.mixins import ConsumerMixin

from backend.common import role_endpoint
from backend.ingest.handling import Batch
from backend.messaging.topology import INGEST_QUEUE, declare_ingest_queue, mqtt_topic

logger = logging.getLogger(__name__)


class AmqpIngestConsumer(ConsumerMixin):
    def __init__(self, connection: Connection, *, prefetch_count: int) -> None:
        self.connection = connection
        self.prefetch_count = prefetch_count
        self._stopping = threading.Event()
        self._batch: Batch[Message] = Batch(settings.INGEST_BATCH_SIZE, settings.INGEST_BATCH_WAIT_MS / 1000)

    def run(self, _tokens: int = 1, **kwargs: Any) -> None:
        # Between deliveries the loop wakes at least this often, to apply a batch that is due.
        super().run(_tokens, safety_interval=self._batch.wait_s or 1.0, **kwargs)

    def get_consumers(self, consumer_class: Any, channel: Any) -> list:
        return [
            consumer_class(
                queues=[INGEST_QUEUE],
                on_message=self._on_message,
                prefetch_count=self.prefetch_count,
                no_ack=False,
            )
        ]

    def on_connection_revived(self) -> None:
        declare_ingest_queue(self.connection)

    def on_consume_ready(self, connection: Connection, channel: Any, consumers: list, **kwargs: Any) -> None:
        self._batch.drop()  # deliveries of a lost channel cannot be acknowledged: they come again
        logger.info("amqp ingest consuming", extra={"queue": INGEST_QUEUE.name, "prefetch": self.prefetch_count})
        role_endpoint.mark_consuming(True)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        role_endpoint.mark_consuming(False)
        super().on_connection_error(exc, interval)

    def _on_message(self, message: Message) -> None:
        # The MQTT plugin sends the publisher's bytes as they were, without a content type.
        topic = mqtt_topic(message.delivery_info.get("routing_key", ""))
        self._batch.add(message, topic, message.body)
        if self._batch.full:
            self._apply_batch()

    def on_iteration(self) -> None:
        if self._batch.due:
            self._apply_batch()

    def _apply_batch(self) -> None:
        for message, acknowledge in self._batch.apply(self._stopping):
            if acknowledge:
                message.ack()
            else:
                message.requeue()

    def stop(self, *_: Any) -> None:
        self._stopping.set()
        self.should_stop = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
