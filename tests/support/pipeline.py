"""Helpers for tests that drive detections through the running pipeline."""

from __future__ import annotations

from typing import Any

from backend.detections.models import Detection
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from harness.processes import Pipeline, wait_for
from tests.factories import DetectionFactory, VehicleFactory


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


def registered_violation(
    plate: str = "12가3456", *, token: str | None = "auto", owner: str = "홍길동", status: str = "completed"
) -> tuple[Vehicle, Detection]:
    """A registered vehicle and a detection of it, read and matched (101 km/h in an 80 zone,
    2026-11-23 01:02:03 UTC). token="auto": a fresh unique FCM token."""
    vehicle = VehicleFactory(plate_number=plate, owner_name=owner, **({} if token == "auto" else {"fcm_token": token}))
    detection = DetectionFactory(status=status, ocr_result=plate, vehicle_id=vehicle.pk)
    return vehicle, detection
