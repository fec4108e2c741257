from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from backend.common import tracing
from backend.config.celery import app as celery_app
from backend.ingest import metrics
from backend.ingest.subscriber import MqttSubscriber
from backend.messaging.topology import declare_topology


class Command(BaseCommand):
    help = "Consume detections/new and detections/completed from MQTT (main role)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--client-id",
            default=settings.MQTT_CLIENT_ID,
            help="MQTT client id; the persistent session lives under it. One process per id.",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=settings.INGEST_METRICS_PORT,
            help="Prometheus metrics port on 127.0.0.1 (0 = off).",
        )

    def handle(self, *args: object, client_id: str, metrics_port: int, **options: object) -> None:
        tracing.configure_tracing("speedcam-ingest", instrument=tracing.WORKER_INSTRUMENTATIONS)
        if metrics_port:
            metrics.serve(metrics_port)
        with celery_app.connection_for_write() as connection:
            declare_topology(connection)
        subscriber = MqttSubscriber(client_id=client_id)
        subscriber.install_signal_handlers()
        subscriber.run()
