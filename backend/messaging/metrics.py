"""Queue depths for Prometheus, read from RabbitMQ at scrape time."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import suppress

from amqp.exceptions import NotFound
from kombu import Connection
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


class QueueDepthCollector(Collector):
    """`speedcam_queue_messages{queue}`: ready messages per queue (passive declare)."""

    def __init__(self, broker_url: str, queue_names: Iterable[str], *, ssl: dict | bool = False) -> None:
        self.broker_url = broker_url
        self.ssl = ssl
        self.queue_names = tuple(queue_names)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("speedcam_queue_messages", "Messages ready in a RabbitMQ queue", labels=["queue"])
        try:
            with Connection(self.broker_url, ssl=self.ssl, connect_timeout=2) as connection:
                for name in self.queue_names:
                    # A queue not declared yet has no depth to report (the broker closes the channel).
                    with connection.channel() as channel, suppress(NotFound):
                        _, count, _ = channel.queue_declare(queue=name, passive=True)
                        family.add_metric([name], count)
        except Exception as error:
            logger.warning("queue depths unavailable: %s", error)
        yield family
