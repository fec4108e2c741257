"""The alert worker process (gevent pool): exactly one push per violation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from backend.detections.models import Detection
from backend.messaging.dispatch import dispatch_alert
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from tests.support.pipeline import pushes_to, wait_notification
from tests.support.processes import Pipeline, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def _completed_detection(vehicle: Vehicle | None) -> Detection:
    return Detection.objects.create(
        event_id=str(uuid.uuid4()),
        detected_speed=101.0,
        speed_limit=80.0,
        camera_id="cam-02",
        location="경부고속도로 서울방향 12km",
        image_gcs_uri="gs://b/o.jpg",
        image_sha256="0" * 64,
        detected_at=datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC),
        status="completed",
        ocr_result=vehicle.plate_number if vehicle else None,
        vehicle_id=vehicle.pk if vehicle else None,
    )


def test_a_task_delivered_several_times_pushes_once(pipeline: Pipeline) -> None:
    token = f"fcm-{uuid.uuid4().hex}"
    detection = _completed_detection(Vehicle.objects.create(plate_number="12가3456", fcm_token=token))
    for _ in range(3):
        dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = wait_notification(detection.pk)
    wait_for(
        lambda: (
            sum(
                1
                for e in pipeline.alert.log_events()
                if e.get("message", "").startswith("Task alert.send_notification")
                and "succeeded" in e.get("message", "")
            )
            >= 3
        ),
        what="three deliveries handled",
    )
    assert notification.status == "sent"
    assert Notification.objects.filter(detection_id=detection.pk).count() == 1
    assert len(pushes_to(pipeline, token)) == 1
    body = notification.body
    assert "12가3456" in body and "101km/h" in body and "80km/h" in body and "경부고속도로" in body
    assert "10:02" in body  # 01:02 UTC shown in Korea time


def test_vehicle_without_token_is_recorded_as_skipped(pipeline: Pipeline) -> None:
    detection = _completed_detection(Vehicle.objects.create(plate_number="34나5678", fcm_token=None))
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = wait_notification(detection.pk)
    assert notification.status == "failed"
    assert notification.error_message == "skipped: vehicle has no FCM token"


def test_unmatched_plate_is_recorded_as_skipped(pipeline: Pipeline) -> None:
    detection = _completed_detection(None)
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = wait_notification(detection.pk)
    assert notification.error_message == "skipped: no registered vehicle matched the plate"


def test_a_claim_left_by_a_dead_worker_is_not_pushed_again(pipeline: Pipeline) -> None:
    """A worker that died between send and record leaves its claim: a redelivery must not push."""
    token = f"fcm-{uuid.uuid4().hex}"
    detection = _completed_detection(Vehicle.objects.create(plate_number="56라7890", fcm_token=token))
    Notification.objects.create(
        detection_id=detection.pk,
        dedupe_key=f"violation:{detection.pk}",
        claim_token=str(uuid.uuid4()),
        claimed_at=datetime.now(UTC),
        fcm_token=token,
    )
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    wait_for(
        lambda: any(
            e.get("message") == "notification claim held elsewhere" and e.get("detection_id") == detection.pk
            for e in pipeline.alert.log_events()
        ),
        what="the redelivery to see the claim",
    )
    assert pushes_to(pipeline, token) == []
    assert Notification.objects.get(detection_id=detection.pk).status == "pending"
