"""The OCR worker process: evidence checks, retries and the dead-letter queue."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image

from backend.config.celery import app as celery_app
from backend.messaging.topology import DLQ_QUEUE, OCR_QUEUE, OCR_TASK
from backend.notifications.models import Notification
from harness.processes import Pipeline, wait_for
from harness.services import TestServices
from tests.support.events import encode, new_event, publish_detections, uploaded_event
from tests.support.pipeline import events_for, wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def _dead_letters(services: TestServices) -> list[dict]:
    """Drain dlq_queue; return each message's headers and body."""
    found = []
    with services.amqp() as connection:
        queue = DLQ_QUEUE(connection.default_channel)
        while (message := queue.get()) is not None:
            found.append({"headers": message.headers, "body": json.loads(message.body)})
            message.ack()
    return found


def test_altered_image_fails_at_once_without_retries(pipeline: Pipeline) -> None:
    event = uploaded_event(pipeline.services, "12가3456")
    event["image_sha256"] = hashlib.sha256(b"something else").hexdigest()
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.status == "failed"
    assert detection.error_message.startswith("image_sha256_mismatch")
    processing = [e for e in events_for(pipeline, event["event_id"]) if e["message"] == "detection processing"]
    assert len(processing) == 1


def test_missing_image_fails_with_its_reason(pipeline: Pipeline) -> None:
    event = new_event()  # its object was never uploaded
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.status == "failed" and detection.error_message.startswith("image_missing")


def test_object_that_is_not_an_image_fails(pipeline: Pipeline) -> None:
    data = b"%PDF-1.4 definitely not a jpeg"
    event = new_event(image_sha256=hashlib.sha256(data).hexdigest())
    pipeline.services.upload(data, event["image_gcs_uri"].split("/", 3)[3])
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.status == "failed" and detection.error_message.startswith("image_unreadable")


def test_unreadable_plate_completes_for_review_and_no_push_goes_out(pipeline: Pipeline) -> None:
    withheld = "speedcam_ingest_messages_processed_total"
    before = pipeline.subscriber_metric(withheld, topic="detections/completed", outcome="review_required")
    event = uploaded_event(pipeline.services, "not a plate")
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.status == "completed"
    assert detection.ocr_result is None and detection.vehicle_id is None
    assert detection.needs_review and detection.review_reason == "no valid plate read"
    wait_for(
        lambda: (
            pipeline.subscriber_metric(withheld, topic="detections/completed", outcome="review_required") == before + 1
        ),
        what="the alert withheld by main",
    )
    assert not Notification.objects.filter(detection_id=detection.pk).exists()


def test_storage_outage_exhausts_retries_then_fails_and_dead_letters(pipeline: Pipeline) -> None:
    services = pipeline.services
    event = uploaded_event(services, "12가3456")
    _dead_letters(services)
    services.stop_gcs()
    try:
        publish_detections(services, [encode(event)])
        detection = wait_detection(event["event_id"], timeout=60)
    finally:
        services.start_gcs()
    assert detection.status == "failed"
    assert "retries exhausted after 3 attempts" in detection.error_message
    dead = wait_for(
        lambda: [
            m
            for m in _dead_letters(services)
            if m["headers"].get("task") == OCR_TASK and m["body"][1].get("detection_id") == detection.pk
        ],
        what="the OCR task in dlq_queue",
    )
    assert dead[0]["headers"]["x-first-death-reason"] == "rejected"
    assert dead[0]["headers"]["x-first-death-queue"] == "ocr_queue"
    attempts = [e for e in events_for(pipeline, event["event_id"]) if e["message"] == "detection processing"]
    assert len(attempts) == 3  # the first try and OCR_MAX_RETRIES=2 retries


def test_task_with_invalid_arguments_is_dead_lettered(pipeline: Pipeline) -> None:
    _dead_letters(pipeline.services)
    celery_app.send_task(OCR_TASK, kwargs={"detection_id": "seven"}, queue=OCR_QUEUE)
    dead = wait_for(
        lambda: [
            m
            for m in _dead_letters(pipeline.services)
            if m["headers"].get("task") == OCR_TASK and m["body"][1].get("detection_id") == "seven"
        ],
        what="invalid task in dlq_queue",
    )
    assert dead
    assert "invalid arguments" in pipeline.ocr.log_text()


def _upload_as_event(pipeline: Pipeline, data: bytes) -> dict:
    event = new_event(image_sha256=hashlib.sha256(data).hexdigest())
    pipeline.services.upload(data, event["image_gcs_uri"].split("/", 3)[3])
    return event


def test_a_decompression_bomb_is_bad_evidence_and_never_retried(pipeline: Pipeline) -> None:
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")  # 81 MP in about 10 KB
    event = _upload_as_event(pipeline, buffer.getvalue())
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.status == "failed" and detection.error_message.startswith("image_too_many_pixels")
    attempts = [e for e in events_for(pipeline, event["event_id"]) if e["message"] == "detection processing"]
    assert len(attempts) == 1


def test_an_oversized_object_is_refused_before_it_is_downloaded(pipeline: Pipeline, monkeypatch) -> None:
    data = b"\xff\xd8" + b"\0" * (21 * 1024 * 1024)
    event = _upload_as_event(pipeline, data)
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.status == "failed" and detection.error_message.startswith("image_too_large")
    assert "limit" in detection.error_message  # from the object's metadata, not a download
