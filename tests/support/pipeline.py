"""Helpers for tests that drive detections through the running pipeline."""

from __future__ import annotations

from typing import Any

from backend.detections.models import Detection
from backend.notifications.models import Notification
from tests.support.processes import Pipeline, wait_for


def detection_for(event_id: str) -> Detection | None:
    return Detection.objects.filter(event_id=event_id).first()


def wait_detection(
    event_id: str, *, statuses: tuple[str, ...] = ("completed", "failed"), timeout: float = 30.0
) -> Detection:
    return wait_for(
        lambda: (d := detection_for(event_id)) is not None and d.status in statuses and d,
        timeout=timeout,
        what=f"detection {event_id} in {statuses}",
    )


def wait_notification(detection_id: int, *, timeout: float = 30.0) -> Notification:
    return wait_for(
        lambda: Notification.objects.filter(detection_id=detection_id).exclude(status="pending").first(),
        timeout=timeout,
        what=f"final notification for detection {detection_id}",
    )


def events_for(pipeline: Pipeline, event_id: str) -> list[dict[str, Any]]:
    return [event for event in pipeline.all_log_events() if event.get("event_id") == event_id]


def pushes_to(pipeline: Pipeline, token: str) -> list[dict[str, Any]]:
    """The witness: every message the FCM emulator accepted for this token."""
    return pipeline.services.fcm.messages_to(token)
