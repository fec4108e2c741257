"""The review queue's decisions through the running pipeline: a correction re-matches and
notifies exactly once, next to the engine's read, and can be exported as training data."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from backend.alert.services import DetectionNotReady, send_violation_alert
from backend.detections import review
from backend.detections.models import Detection
from backend.notifications.models import Notification
from harness.processes import Pipeline
from tests.factories import VehicleFactory
from tests.support.events import encode, publish_detections, uploaded_event
from tests.support.pipeline import pushes_to, registered_violation, wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_a_correction_rematches_and_notifies_exactly_once(pipeline: Pipeline, tmp_path: Path) -> None:
    owner = VehicleFactory(plate_number="12가3456", owner_name="갑", fcm_token=f"fcm-{uuid.uuid4().hex}")
    neighbour = VehicleFactory(plate_number="12가3458", owner_name="을", fcm_token=f"fcm-{uuid.uuid4().hex}")
    event = uploaded_event(pipeline.services, "12가3457")  # the engine reads a plate between the two
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.needs_review and detection.review_reason.startswith("ambiguous match")
    assert not Notification.objects.filter(detection_id=detection.pk).exists()

    corrected = review.correct_plate(detection, plate="12 가 3456", reviewer="operator-kim")
    assert corrected.vehicle_id == owner.pk and corrected.plate_match == "reviewed"
    with pytest.raises(review.ReviewRefused, match="검토 대기 중이 아닙니다"):
        review.correct_plate(detection, plate="12가3458", reviewer="operator-lee")  # a second reviewer
    with pytest.raises(review.ReviewRefused):
        review.accept_read(detection, reviewer="operator-kim")  # a double click

    sent = wait_notification(detection.pk)
    assert sent.status == "sent" and sent.fcm_token == owner.fcm_token
    assert len(pushes_to(pipeline, owner.fcm_token)) == 1 and pushes_to(pipeline, neighbour.fcm_token) == []
    stored = Detection.objects.get(pk=detection.pk)
    # The engine's read stays; the correction sits next to it with who and when.
    assert (stored.ocr_result, stored.reviewed_plate, stored.reviewed_by) == ("12가3457", "12가3456", "operator-kim")
    assert stored.reviewed_at is not None and not stored.needs_review and stored.plate == "12가3456"

    call_command("export_corrections", str(tmp_path))
    labels = json.loads((tmp_path / "labels.json").read_text("utf-8"))
    assert labels == {f"correction-{detection.pk}.jpg": "12가3456"}
    records = json.loads((tmp_path / "corrections.json").read_text("utf-8"))
    assert records[0]["read"] == "12가3457" and records[0]["reviewed_by"] == "operator-kim"
    assert (tmp_path / f"correction-{detection.pk}.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_accepting_a_read_notifies_its_owner(pipeline: Pipeline) -> None:
    vehicle, detection = registered_violation("34나5678")
    Detection.objects.filter(pk=detection.pk).update(needs_review=True, review_reason="low confidence 0.41 < 0.80")
    detection.refresh_from_db()
    review.accept_read(detection, reviewer="operator-park")
    assert wait_notification(detection.pk).fcm_token == vehicle.fcm_token


def test_a_correction_to_an_unregistered_plate_notifies_nobody(pipeline: Pipeline) -> None:
    _, detection = registered_violation("56라7890")
    Detection.objects.filter(pk=detection.pk).update(needs_review=True, review_reason="no valid plate read")
    detection.refresh_from_db()
    decided = review.correct_plate(detection, plate="서울12가3456", reviewer="operator-choi")
    assert decided.vehicle_id is None and decided.plate_match is None
    recorded = wait_notification(detection.pk)
    assert recorded.status == "failed" and recorded.error_message.startswith("skipped: no registered vehicle")


def test_a_plate_that_is_not_a_plate_is_refused() -> None:
    _, detection = registered_violation("78마1234")
    Detection.objects.filter(pk=detection.pk).update(needs_review=True, review_reason="no valid plate read")
    with pytest.raises(review.ReviewRefused, match="한국 번호판이 아닙니다"):
        review.correct_plate(detection, plate="ABC-123", reviewer="operator-kim")
    assert Detection.objects.get(pk=detection.pk).needs_review


def test_the_alert_role_never_pushes_a_detection_waiting_for_review() -> None:
    _, detection = registered_violation("90바1234")
    Detection.objects.filter(pk=detection.pk).update(needs_review=True, review_reason="low confidence 0.30 < 0.80")

    class Refuse:
        def send(self, message):  # pragma: no cover - must not be reached
            raise AssertionError("pushed a detection waiting for review")

    with pytest.raises(DetectionNotReady, match="waits for review"):
        send_violation_alert(detection.pk, sender=Refuse())
    assert not Notification.objects.filter(detection_id=detection.pk).exists()
