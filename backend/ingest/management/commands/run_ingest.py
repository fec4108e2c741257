"""`manage.py run_ingest`: the ingest process that INGEST_MODE names (the entry point's)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run ingest as INGEST_MODE says: the MQTT subscriber (mqtt) or an ingest_queue consumer (amqp)."

    def handle(self, *args: object, **options: object) -> None:
        call_command("run_amqp_ingest" if settings.INGEST_MODE == "amqp" else "run_mqtt_subscriber")
