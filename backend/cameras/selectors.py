from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from backend.cameras.models import Camera


def camera_by_id(camera_id: str) -> Camera | None:
    return Camera.objects.filter(camera_id=camera_id).first()


def active_camera(camera_id: str) -> Camera | None:
    return Camera.objects.filter(camera_id=camera_id, active=True).first()


def silent_cameras(*, seen_before: datetime) -> list[Camera]:
    """Active cameras not heard from since `seen_before`, or that said they went offline."""
    return list(
        Camera.objects.filter(active=True).filter(
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen_before) | Q(last_state=Camera.State.OFFLINE)
        )
    )


def count_silent_cameras(*, seen_before: datetime) -> int:
    return (
        Camera.objects.filter(active=True)
        .filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen_before) | Q(last_state=Camera.State.OFFLINE))
        .count()
    )
