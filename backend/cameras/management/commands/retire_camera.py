"""`manage.py retire_camera ID`: the camera's events are refused and its broker login is gone."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.cameras.management.commands.provision_camera import broker_admin
from backend.cameras.selectors import camera_by_id
from backend.cameras.services import deactivate_camera
from backend.messaging.broker_admin import BrokerAdminError


class Command(BaseCommand):
    help = "Retire a camera: ingest refuses its events, its broker user and connections are removed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("camera_id")
        parser.add_argument("--keep-broker-user", action="store_true")

    def handle(self, *args: object, camera_id: str, keep_broker_user: bool, **options: object) -> None:
        camera = camera_by_id(camera_id)
        if camera is None:
            raise CommandError(f"no camera {camera_id!r}")
        deactivate_camera(camera_id)
        if not keep_broker_user:
            try:
                broker_admin().retire_camera(camera.mqtt_username)
            except BrokerAdminError as error:
                raise CommandError(f"camera retired in the registry, broker user not removed: {error}") from error
        self.stdout.write(f"camera {camera_id} retired (its detections stay as evidence)")
