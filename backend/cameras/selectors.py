from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from backend.cameras.models import Camera


def camera_by_id(camera_id: str) -> Camera | None:
    return Camera.objects.filter(camera_id=camera_id).first()


def silent_cameras(*, seen_before: datetime) -> QuerySet[Camera]:
    """Active cameras not heard from since `seen_before`, or that said they went offline."""
    return Camera.objects.filter(active=True).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen_before) | Q(last_state=Camera.State.OFFLINE)
    )
