"""`manage.py show_detections`: the operator's view of how detections ended."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backend.detections.models import Detection
from backend.vehicles.models import Vehicle
from tests.factories import DetectionFactory, NotificationFactory, VehicleFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")


def _detection(event_id: str, status: str, vehicle: Vehicle | None = None) -> Detection:
    return DetectionFactory(
        event_id=event_id,
        detected_speed=96.0,
        speed_limit=60.0,
        status=status,
        ocr_result=vehicle.plate_number if vehicle else None,
        vehicle_id=vehicle.pk if vehicle else None,
    )


def test_shows_final_detections_aligned() -> None:
    vehicle = VehicleFactory(plate_number="34나5678", owner_name="김영희")
    detection = _detection("ev-1", "completed", vehicle)
    NotificationFactory(
        detection_id=detection.pk, dedupe_key="violation:1", status="sent", sent_detection_id=detection.pk
    )
    out = StringIO()
    call_command("show_detections", "ev-1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("event_id") and "notification" in lines[0]
    assert "34나5678" in lines[1] and "김영희" in lines[1] and lines[1].endswith("sent")
    assert "96/60" in lines[1]


def test_waiting_for_an_unfinished_detection_fails_with_a_message() -> None:
    _detection("ev-2", "processing")
    with pytest.raises(CommandError, match="did not reach a final state"):
        call_command("show_detections", "ev-2", "--wait", "0.5", stdout=StringIO())


def test_a_detection_waiting_for_review_is_final_and_says_why() -> None:
    detection = _detection("ev-3", "completed")
    Detection.objects.filter(pk=detection.pk).update(
        ocr_result="56라7891", needs_review=True, review_reason="ambiguous match: 56라7890, 56라7892"
    )
    out = StringIO()
    call_command("show_detections", "ev-3", "--wait", "5", stdout=out)
    row = out.getvalue().splitlines()[1]
    assert "56라7891" in row and row.endswith("review: ambiguous match: 56라7890, 56라7892")
