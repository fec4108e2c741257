"""Scale-out ingest: `python manage.py run_amqp_ingest` (INGEST_MODE=amqp).

An MQTT client id belongs to one connection at a time, so the MQTT subscriber
cannot be scaled out. This consumer reads the same messages from the durable
`ingest_queue` bound to amq.topic instead; any number of them, on any hosts,
share the load as competing consumers. Validation, idempotency and the ack rule
are the MQTT subscriber's (backend.ingest.handling): the message is acknowledged
only after its effect is committed; a transient failure requeues it.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from kombu import Connection, Message
from kombu.mixins import ConsumerMixin

from backend.ingest.handling import handle_message
from backend.messaging.topology import INGEST_QUEUE, declare_ingest_queue, mqtt_topic

logger = logging.getLogger(__name__)


class AmqpIngestConsumer(ConsumerMixin):
    def __init__(self, connection: Connection, *, prefetch_count: int) -> None:
        self.connection = connection
        self.prefetch_count = prefetch_count
        self._stopping = threading.Event()

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
        logger.info("amqp ingest consuming", extra={"queue": INGEST_QUEUE.name, "prefetch": self.prefetch_count})

    def _on_message(self, message: Message) -> None:
        # The MQTT plugin sends the publisher's bytes as they were, without a content type.
        topic = mqtt_topic(message.delivery_info.get("routing_key", ""))
        if handle_message(topic, message.body, stopping=self._stopping):
            message.ack()
        else:
            message.requeue()

    def stop(self, *_: Any) -> None:
        self._stopping.set()
        self.should_stop = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
