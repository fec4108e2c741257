"""`manage.py provision_camera ID --location ... --limit ...`: a camera, ready to install.

Registers the camera (where it is, its limit), creates its own broker user through the
RabbitMQ management API with the right to publish on its own topics only, and prints
what the unit needs: the YAML `backend:` section and its secret as an env line.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.cameras.services import CameraError, register_camera
from backend.contracts.events import camera_status_topic, detections_new_topic
from backend.messaging.broker_admin import BrokerAdmin, BrokerAdminError, new_password


def broker_admin() -> BrokerAdmin:
    return BrokerAdmin(
        settings.RABBITMQ_MANAGEMENT_URL,
        settings.RABBITMQ_ADMIN_USER,
        settings.RABBITMQ_ADMIN_PASSWORD,
        vhost=settings.RABBITMQ_VHOST,
    )


def camera_username(camera_id: str) -> str:
    return f"camera-{camera_id}"


class Command(BaseCommand):
    help = "Register a camera and create its broker identity (publish on its own topics only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("camera_id")
        parser.add_argument("--location", required=True, help="what the owner's notification says")
        parser.add_argument("--limit", type=float, required=True, help="speed limit, km/h")
        parser.add_argument("--lat", type=float, help="latitude (WGS84)")
        parser.add_argument("--lon", type=float, help="longitude (WGS84)")
        parser.add_argument("--away", default="", help="name of the direction away from the camera")
        parser.add_argument("--towards", default="", help="name of the direction towards the camera")
        parser.add_argument(
            "--env-file", help="also write the unit's secret (SPEEDCAM_MQTT_PASSWORD=...) to this file, mode 600"
        )
        parser.add_argument("--no-broker", action="store_true", help="registry only; the broker user exists already")

    def handle(self, *args: object, camera_id: str, location: str, limit: float, **options: object) -> None:
        username = camera_username(camera_id)
        try:
            camera, created = register_camera(
                camera_id,
                location=location,
                speed_limit=limit,
                mqtt_username=username,
                latitude=options["lat"],
                longitude=options["lon"],
                direction_away=options["away"],
                direction_towards=options["towards"],
            )
        except CameraError as error:
            raise CommandError(str(error)) from error
        password = None
        if not options["no_broker"]:
            password = new_password()
            try:
                broker_admin().provision_camera(camera_id, username, password)
            except BrokerAdminError as error:
                raise CommandError(f"camera registered, broker user not created: {error}") from error
        self.stderr.write(
            f"camera {camera_id} {'registered' if created else 'updated'}; broker user {username} may publish on "
            f"{detections_new_topic(camera_id)} and {camera_status_topic(camera_id)} only"
        )
        unit = {
            "camera_id": camera_id,
            "location": camera.location,
            "speed_limit_kmh": camera.speed_limit,
            "backend": {
                "mqtt_host": settings.EDGE_MQTT_HOST,
                "mqtt_port": settings.EDGE_MQTT_PORT,
                **({"tls": True} if settings.EDGE_MQTT_TLS else {}),
                **(
                    {"ca_file": settings.EDGE_TLS_CA_FILE}
                    if settings.EDGE_MQTT_TLS and settings.EDGE_TLS_CA_FILE
                    else {}
                ),
                "mqtt_username": username,
                "mqtt_password_env": "SPEEDCAM_MQTT_PASSWORD",
                "client_id": f"speedcam-edge-{camera_id}",
                "bucket": settings.GCS_BUCKET_NAME,
            },
        }
        self.stdout.write("# the unit's cam.yaml (add calibration, zone and capture)")
        self.stdout.write(yaml.safe_dump(unit, allow_unicode=True, sort_keys=False).rstrip())
        if password is None:
            return
        line = f"SPEEDCAM_MQTT_PASSWORD={password}"
        if options["env_file"]:
            _write_secret(Path(str(options["env_file"])), line)
            self.stdout.write(f"# the unit's secret is in {options['env_file']} (mode 600)")
        else:
            self.stdout.write("# the unit's environment (keep it out of the YAML, in a mode-600 file)")
            self.stdout.write(line)


def _write_secret(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(line + "\n")
    os.chmod(path, 0o600)
