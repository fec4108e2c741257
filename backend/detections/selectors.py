from __future__ import annotations

from datetime import datetime, tzinfo

from django.db.models import Count
from django.db.models.functions import TruncDate

from backend.detections.models import Detection


def detection_by_id(detection_id: int) -> Detection | None:
    return Detection.objects.filter(pk=detection_id).first()


def detection_by_event_id(event_id: str) -> Detection | None:
    return Detection.objects.filter(event_id=event_id).first()


def detection_status_counts() -> dict[str, int]:
    counts = dict(Detection.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Detection.Status.values}


def violations_per_day(start: datetime, end: datetime, tz: tzinfo) -> list[dict]:
    return list(
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .annotate(day=TruncDate("detected_at", tzinfo=tz))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )


def violations_per_camera(start: datetime, end: datetime) -> list[dict]:
    return list(
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .values("camera_id")
        .annotate(count=Count("id"))
        .order_by("-count", "camera_id")
    )
