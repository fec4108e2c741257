"""The MQTT subscriber process on the real broker and databases."""

from __future__ import annotations

import time

import pytest
from django_celery_results.models import TaskResult

from backend.contracts.events import (
    MAX_PAYLOAD_BYTES,
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_DETECTIONS_NEW,
    detections_new_topic,
)
from backend.detections.models import Detection, RejectedEvent
from harness.processes import wait_for
from tests.support.events import TEST_BUCKET, TEST_CAMERA, encode, new_event, publish_detections, uploaded_event
from tests.support.pipeline import wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
REJECTED = "speedcam_ingest_messages_rejected_total"
PROCESSED = "speedcam_ingest_messages_processed_total"


def test_same_event_twice_makes_one_detection_and_one_ocr_task(pipeline) -> None:
    event = uploaded_event(pipeline.services, "34나5678")
    duplicates_before = pipeline.subscriber_metric(PROCESSED, topic=TOPIC_DETECTIONS_NEW, outcome="duplicate")
    publish_detections(pipeline.services, [encode(event), encode(event)])

    detection = wait_detection(event["event_id"])
    wait_notification(detection.pk)
    wait_for(
        lambda: (
            pipeline.subscriber_metric(PROCESSED, topic=TOPIC_DETECTIONS_NEW, outcome="duplicate")
            == duplicates_before + 1
        ),
        what="duplicate counted",
    )
    assert Detection.objects.filter(event_id=event["event_id"]).count() == 1
    ocr_tasks = TaskResult.objects.filter(task_name="ocr.process_detection", task_kwargs__contains=event["event_id"])
    assert ocr_tasks.count() == 1


def test_a_burst_is_stored_in_batches_each_event_once_and_handed_to_ocr_once(pipeline) -> None:
    batches_before = pipeline.subscriber_metric("speedcam_ingest_batch_messages_count")
    messages_before = pipeline.subscriber_metric("speedcam_ingest_batch_messages_sum")
    events = [uploaded_event(pipeline.services, "12가3456") for _ in range(30)]
    publish_detections(pipeline.services, [encode(event) for event in events])

    for event in events:
        wait_detection(event["event_id"])
    batches = pipeline.subscriber_metric("speedcam_ingest_batch_messages_count") - batches_before
    messages = pipeline.subscriber_metric("speedcam_ingest_batch_messages_sum") - messages_before
    # The completions of the OCR worker come in too: at least the burst, in fewer batches.
    assert messages >= 30 and batches < messages, f"{messages:.0f} messages in {batches:.0f} batches"
    event_ids = [event["event_id"] for event in events]
    assert Detection.objects.filter(event_id__in=event_ids).count() == 30
    assert not Detection.objects.filter(event_id__in=event_ids, ocr_dispatched_at=None).exists()
    tasks = wait_for(
        lambda: (n := TaskResult.objects.filter(task_name="ocr.process_detection").count()) >= 30 and n,
        what="30 OCR results",
    )
    assert tasks == 30


INVALID_PAYLOADS = [
    (b"\xff\xfe", "not_utf8"),
    (b"{oops", "not_json"),
    (b'"a string"', "not_object"),
    (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "too_large"),
    (encode({k: v for k, v in new_event().items() if k != "camera_id"}), "missing_camera_id"),
    (encode(new_event(detected_speed="fast")), "invalid_detected_speed"),
    (encode(new_event(detected_at="2026-11-23T10:02:03")), "invalid_detected_at"),
    (encode(new_event(image_gcs_uri="gs://another-bucket/x.jpg")), "invalid_image_gcs_uri"),
    (encode(new_event(image_sha256="123")), "invalid_image_sha256"),
    (encode(new_event(detected_speed=40.0)), "not_over_limit"),
    (encode(new_event(extra="x")), "unknown_field"),
    (encode(new_event(detected_at="0001-01-01T00:00:00+09:00")), "invalid_detected_at"),
    (encode(new_event(detected_at="2020-01-01T00:00:00+09:00")), "detected_at_too_old"),
    (encode(new_event(detected_at="2999-01-01T00:00:00+09:00")), "detected_at_in_future"),
    (encode(new_event(camera_id="cam-99")), "camera_mismatch"),
    (encode(new_event(image_gcs_uri=f"gs://{TEST_BUCKET}/detections/cam-02/2026/11/23/x.jpg")), "foreign_evidence"),
    (encode(new_event(detected_speed=59.0, speed_limit=50.0)), "not_over_registered_limit"),
]


def test_each_invalid_payload_is_rejected_counted_and_the_loop_goes_on(pipeline) -> None:
    before = {
        reason: pipeline.subscriber_metric(REJECTED, topic=TOPIC_DETECTIONS_NEW, reason=reason)
        for _, reason in INVALID_PAYLOADS
    }
    valid = uploaded_event(pipeline.services, "56라7890")
    publish_detections(pipeline.services, [payload for payload, _ in INVALID_PAYLOADS] + [encode(valid)])

    assert wait_detection(valid["event_id"]).status == "completed"
    for _, reason in INVALID_PAYLOADS:
        expected = before[reason] + sum(1 for _, r in INVALID_PAYLOADS if r == reason)
        assert pipeline.subscriber_metric(REJECTED, topic=TOPIC_DETECTIONS_NEW, reason=reason) == expected, reason
    assert Detection.objects.count() == 1
    parked = RejectedEvent.objects.filter(topic=detections_new_topic(TEST_CAMERA))
    assert sorted(parked.values_list("reason", flat=True)) == sorted(reason for _, reason in INVALID_PAYLOADS)
    assert all(row.camera_id == TEST_CAMERA and row.detail for row in parked)
    rejected_lines = [e for e in pipeline.subscriber.log_events() if e.get("message") == "message rejected"]
    assert {e["reason"] for e in rejected_lines} >= {reason for _, reason in INVALID_PAYLOADS}
    assert all(e["detail"] for e in rejected_lines)


def test_completed_event_for_an_unknown_detection_is_rejected(pipeline) -> None:
    before = pipeline.subscriber_metric(REJECTED, topic=TOPIC_DETECTIONS_COMPLETED, reason="unknown_detection")
    payload = encode(
        {
            "event_id": new_event()["event_id"],
            "detection_id": 999999,
            "plate": None,
            "confidence": None,
            "vehicle_id": None,
            "occurred_at": "2026-11-23T01:02:03+00:00",
        }
    )
    pipeline.services.mqtt_publish(TOPIC_DETECTIONS_COMPLETED, [payload])
    wait_for(
        lambda: (
            pipeline.subscriber_metric(REJECTED, topic=TOPIC_DETECTIONS_COMPLETED, reason="unknown_detection")
            == before + 1
        ),
        what="rejection counted",
    )


def test_messages_published_while_the_subscriber_is_down_are_processed_after_restart(pipeline) -> None:
    events = [uploaded_event(pipeline.services, plate) for plate in ("12가3456", "78마1234", "123다4567")]
    pipeline.subscriber.stop()
    try:
        publish_detections(pipeline.services, [encode(event) for event in events])
        time.sleep(1.0)
        assert Detection.objects.count() == 0  # nobody consumed them: they wait in the session queue
    finally:
        pipeline.subscriber.start()
    for event in events:
        assert wait_detection(event["event_id"]).status == "completed"
    assert "session_present" in pipeline.subscriber.log_text()
