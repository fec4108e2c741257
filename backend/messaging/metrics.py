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


def queue_depths(connection: Connection, queue_names: Iterable[str]) -> dict[str, int]:
    """Ready messages per queue (passive declare). A queue not declared yet has no depth to
    report: it is left out (the broker closes that channel, so one channel per queue)."""
    depths: dict[str, int] = {}
    for name in queue_names:
        with connection.channel() as channel, suppress(NotFound):
            _, depths[name], _ = channel.queue_declare(queue=name, passive=True)
    return depths


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
                for name, count in queue_depths(connection, self.queue_names).items():
                    family.add_metric([name], count)
        except Exception as error:
            logger.warning("queue depths unavailable: %s", error)
        yield family
