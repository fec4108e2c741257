from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from backend.common import tracing
from backend.config.celery import app as celery_app
from backend.ingest import metrics
from backend.ingest.amqp_consumer import AmqpIngestConsumer
from backend.messaging.topology import declare_ingest_queue, declare_topology


class Command(BaseCommand):
    help = (
        "Consume the MQTT-originated events from the durable ingest_queue (INGEST_MODE=amqp). "
        "Run as many as you need: they are competing consumers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prefetch", type=int, default=settings.INGEST_PREFETCH, help="Unacked messages held.")
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=settings.INGEST_METRICS_PORT,
            help="Prometheus metrics port (0 = off; give each instance on a host its own).",
        )

    def handle(self, *args: object, prefetch: int, metrics_port: int, **options: object) -> None:
        tracing.configure_tracing("speedcam-ingest", instrument=tracing.WORKER_INSTRUMENTATIONS)
        if metrics_port:
            metrics.serve(metrics_port)
        with celery_app.connection_for_write() as connection:
            declare_topology(connection)
            declare_ingest_queue(connection)
        with celery_app.connection_for_read(heartbeat=settings.BROKER_HEARTBEAT_S) as connection:
            consumer = AmqpIngestConsumer(connection, prefetch_count=prefetch)
            consumer.install_signal_handlers()
            consumer.run()
