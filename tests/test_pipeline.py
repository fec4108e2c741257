"""One detection through every role on real components.

Edge uplink (real GCS client -> emulator, real MQTT publish) -> RabbitMQ MQTT ->
subscriber process (MariaDB, AMQP) -> OCR worker process (prefork) -> MQTT ->
subscriber -> alert worker process (gevent) -> notification row.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import VehicleFactory
from tests.support.events import report_through_edge
from tests.support.pipeline import events_for, pushes_to, wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_a_violation_travels_through_every_role(pipeline) -> None:
    token = f"fcm-{uuid.uuid4().hex}"
    vehicle = VehicleFactory(plate_number="12가3456", owner_name="홍길동", fcm_token=token)
    services = pipeline.services
    detected_at = datetime.now(timezone(timedelta(hours=9))).replace(microsecond=0)
    event = report_through_edge(services, "12가3456", camera_id="cam-07", detected_at=detected_at)
    event_id = str(event.event_id)

    detection = wait_detection(event_id)
    assert detection.status == "completed", detection.error_message
    assert detection.ocr_result == "12가3456"
    assert detection.vehicle_id == vehicle.pk
    assert detection.ocr_confidence == pytest.approx(0.99)
    assert detection.processed_at is not None and detection.ocr_dispatched_at is not None
    assert detection.detected_at == detected_at
    assert detection.image_gcs_uri == f"gs://{services.bucket}/detections/cam-07/{detected_at:%Y/%m/%d}/{event_id}.jpg"

    notification = wait_notification(detection.pk)
    assert notification.status == "sent"
    assert notification.fcm_token == token
    assert notification.sent_at is not None and notification.retry_count == 0
    assert "12가3456" in notification.body and "97km/h" in notification.body and "60km/h" in notification.body
    assert len(pushes_to(pipeline, token)) == 1

    # Every state change was logged once by the role that made it, and each line carries
    # both ids. Across processes only causal order is guaranteed: "ocr task dispatched" is
    # logged after the broker's confirm, by which time the OCR worker may have started.
    trail = [
        (e["message"], e.get("detection_id"))
        for e in events_for(pipeline, event_id)
        if e["message"].startswith(("detection", "ocr task", "alert task", "notification"))
    ]
    messages = [message for message, _ in trail]
    expected = [
        "detection pending",
        "ocr task dispatched",
        "detection processing",
        "detection completed",
        "detection completed announced",
        "alert task dispatched",
        "notification sent",
    ]
    seen = [m for m in messages if m in expected]
    assert sorted(seen) == sorted(expected)
    for earlier, later in (
        ("detection pending", "ocr task dispatched"),
        ("detection pending", "detection processing"),
        ("detection processing", "detection completed"),
        ("detection completed", "detection completed announced"),
        ("detection completed", "alert task dispatched"),
        ("detection completed", "notification sent"),
    ):
        assert seen.index(earlier) < seen.index(later), (earlier, later, seen)
    assert {detection_id for _, detection_id in trail} == {detection.pk}
