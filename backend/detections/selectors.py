from __future__ import annotations

from backend.detections.models import Detection


def detection_by_id(detection_id: int) -> Detection | None:
    return Detection.objects.filter(pk=detection_id).first()


def detection_by_event_id(event_id: str) -> Detection | None:
    return Detection.objects.filter(event_id=event_id).first()
