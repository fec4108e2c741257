from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from backend.cameras.models import Camera


def camera_by_id(camera_id: str) -> Camera | None:
    return Camera.objects.filter(camera_id=camera_id).first()


def cameras_by_id(camera_ids: Iterable[str]) -> dict[str, Camera]:
    return {camera.camera_id: camera for camera in Camera.objects.filter(camera_id__in=set(camera_ids))}


def silent_cameras(*, seen_before: datetime) -> QuerySet[Camera]:
    """Active cameras not heard from since `seen_before`, or that said they went offline."""
    return Camera.objects.filter(active=True).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen_before) | Q(last_state=Camera.State.OFFLINE)
    )


def camera_liveness(*, seen_before: datetime) -> list[dict]:
    """Every active camera with where it stands and whether it is heard from."""
    silent = set(silent_cameras(seen_before=seen_before).values_list("camera_id", flat=True))
    return [
        {
            "camera_id": camera.camera_id,
            "location": camera.location,
            "latitude": float(camera.latitude) if camera.latitude is not None else None,
            "longitude": float(camera.longitude) if camera.longitude is not None else None,
            "last_seen_at": camera.last_seen_at,
            "silent": camera.camera_id in silent,
        }
        for camera in Camera.objects.filter(active=True)
    ]
