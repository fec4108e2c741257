from __future__ import annotations

from django.db.models import QuerySet

from backend.notifications.models import Notification


def notifications_for_detection(detection_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(detection_id=detection_id).order_by("created_at")
