from __future__ import annotations

from django.db.models import QuerySet

from backend.notifications.counts import NOTIFICATION_COUNTS, STATUS
from backend.notifications.models import Notification


def notifications_for_detection(detection_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(detection_id=detection_id).order_by("created_at")


def notifications_by_detection(detection_ids: list[int]) -> dict[int, list[Notification]]:
    grouped: dict[int, list[Notification]] = {}
    for notification in Notification.objects.filter(detection_id__in=detection_ids).order_by("created_at"):
        grouped.setdefault(notification.detection_id, []).append(notification)
    return grouped


def notified_detection_ids() -> QuerySet:
    return Notification.objects.values_list("detection_id", flat=True).distinct()


def notification_status_counts() -> dict[str, int]:
    """Every notification ever made, by status (from the hourly counts)."""
    counts = NOTIFICATION_COUNTS.sums().of_facet(STATUS)
    return {status: counts[status] for status in Notification.Status.values}


def alert_states(detection_ids: list[int]) -> dict[int, Notification]:
    """The violation alert's notification per detection, where one exists."""
    return {n.detection_id: n for n in Notification.objects.filter(detection_id__in=detection_ids)}
