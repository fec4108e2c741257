"""Writes to the camera registry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from backend.cameras.models import Camera
from backend.common.events_log import log_transition
from backend.contracts.events import is_camera_id

logger = logging.getLogger(__name__)


class CameraError(ValueError):
    """A camera definition the registry refuses; the message says what to fix."""


def register_camera(
    camera_id: str,
    *,
    location: str,
    speed_limit: float,
    mqtt_username: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    direction_away: str = "",
    direction_towards: str = "",
) -> tuple[Camera, bool]:
    """Create or update a camera and (re)activate it. Returns (camera, created)."""
    if not is_camera_id(camera_id):
        raise CameraError("camera id: 1-50 letters, digits, '-' or '_', starting with a letter or digit")
    if not location.strip() or len(location) > 255:
        raise CameraError("location: 1-255 characters")
    if not 0 < speed_limit <= 200:
        raise CameraError("speed limit: more than 0 and at most 200 km/h")
    if latitude is not None and not -90 <= latitude <= 90:
        raise CameraError("latitude: -90..90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise CameraError("longitude: -180..180")
    with transaction.atomic(using="detections_db"):
        camera, created = Camera.objects.update_or_create(
            camera_id=camera_id,
            defaults={
                "mqtt_username": mqtt_username or camera_id,
                "location": location.strip(),
                "speed_limit": speed_limit,
                "latitude": latitude,
                "longitude": longitude,
                "direction_away": direction_away,
                "direction_towards": direction_towards,
                "active": True,
            },
        )
    log_transition(
        logger,
        "camera registered" if created else "camera updated",
        camera_id=camera_id,
        location=camera.location,
        speed_limit=speed_limit,
    )
    return camera, created


def deactivate_camera(camera_id: str) -> bool:
    updated = Camera.objects.filter(camera_id=camera_id, active=True).update(active=False, updated_at=timezone.now())
    if updated:
        log_transition(logger, "camera deactivated", level=logging.WARNING, camera_id=camera_id)
    return bool(updated)


# Liveness needs minutes, not milliseconds: an event refreshes last_seen_at only when it
# is older than this, so a busy camera costs no extra write per violation.
SEEN_RESOLUTION = timedelta(seconds=60)


def note_activity(camera: Camera) -> None:
    """An event from this camera arrived (heartbeats go through record_camera_seen)."""
    now = timezone.now()
    if camera.last_seen_at is None or now - camera.last_seen_at >= SEEN_RESOLUTION:
        record_camera_seen(camera.camera_id, at=now)


def record_camera_seen(
    camera_id: str, *, state: str | None = None, counters: dict[str, int] | None = None, at: datetime | None = None
) -> bool:
    """A message from this camera arrived: remember when, and what it said of itself."""
    values: dict[str, object] = {"last_seen_at": at or timezone.now()}
    if state is not None:
        values["last_state"] = state
    if counters is not None:
        values["last_counters"] = counters
    return bool(Camera.objects.filter(camera_id=camera_id).update(**values))
