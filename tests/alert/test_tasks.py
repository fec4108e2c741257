"""The alert worker process (gevent pool) with the real firebase-admin SDK against the
local FCM endpoint, whose record of accepted messages is the witness."""

from __future__ import annotations

import json
import signal

import pytest

from backend.detections.models import Detection
from backend.messaging.dispatch import dispatch_alert
from backend.messaging.topology import ALERT_TASK, DLQ_QUEUE
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from harness.processes import Pipeline, wait_for
from harness.services import FcmEmulator
from tests.support.pipeline import registered_violation

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def _violation(plate: str = "12가3456", *, token: str | None = "auto") -> tuple[Detection, str]:
    vehicle, detection = registered_violation(plate, token=token)
    return detection, vehicle.fcm_token


def _final_notification(detection: Detection, timeout: float = 30.0) -> Notification:
    return wait_for(
        lambda: Notification.objects.filter(detection_id=detection.pk).exclude(status="pending").first(),
        timeout=timeout,
        what=f"final notification for detection {detection.pk}",
    )


def test_the_push_carries_title_body_data_and_delivery_options(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    detection, token = _violation()
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = _final_notification(detection)
    assert notification.status == "sent" and notification.sent_at is not None

    [message] = fcm.messages_to(token)
    assert message["notification"]["title"] == "[과속 단속] 속도위반 알림"
    body = message["notification"]["body"]
    assert "12가3456" in body and "경부고속도로 서울방향 12km" in body
    assert "101km/h" in body and "80km/h" in body and "2026-11-23 10:02" in body  # local (KST) time
    assert message["data"] == {
        "detection_id": str(detection.pk),
        "plate": "12가3456",
        "speed": "101.0",
        "speed_limit": "80.0",
        "detected_at": "2026-11-23T01:02:03+00:00",
    }
    assert message["android"]["priority"] == "high"
    assert message["android"]["ttl"] == "86400s"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert message["apns"]["payload"]["aps"]["alert"]["title"] == "[과속 단속] 속도위반 알림"
    assert notification.title == message["notification"]["title"] and notification.body == body


def test_a_task_delivered_several_times_pushes_once(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    fcm.configure(latency_ms=200)  # the copies overlap in the gevent pool
    detection, token = _violation()
    task_ids = [dispatch_alert(detection_id=detection.pk, event_id=detection.event_id) for _ in range(3)]
    assert _final_notification(detection).status == "sent"
    # Copies that found the claim held come back later (ALERT_CLAIM_STALE_S); wait for all three.
    wait_for(
        lambda: all(f"[{task_id}] succeeded" in pipeline.alert.log_text() for task_id in task_ids),
        timeout=30,
        what="all three deliveries handled",
    )
    assert len(fcm.messages_to(token)) == 1
    assert Notification.objects.filter(detection_id=detection.pk).count() == 1
    assert Notification.objects.get(detection_id=detection.pk).status == "sent"


@pytest.mark.parametrize("error", ["UNREGISTERED", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH"])
def test_a_dead_token_fails_without_retry_and_is_retired(pipeline: Pipeline, fcm: FcmEmulator, error: str) -> None:
    detection, token = _violation()
    fcm.configure(rules=[{"token": token, "error": error}])
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = _final_notification(detection)
    assert notification.status == "failed" and notification.retry_count == 0
    assert f"emulated {error}" in notification.error_message
    assert len(fcm.refused_for(token)) == 1 and fcm.messages_to(token) == []
    # The alert role announced it; the main role (owner of vehicles_db) cleared the token.
    wait_for(lambda: Vehicle.objects.get(pk=detection.vehicle_id).fcm_token is None, what="token retired")


def test_retired_token_is_kept_if_the_owner_already_registered_a_new_one(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    detection, token = _violation()
    fcm.configure(latency_ms=800, rules=[{"token": token, "error": "UNREGISTERED"}])
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    wait_for(lambda: fcm.state()["in_flight"] >= 1, what="the send in flight")
    Vehicle.objects.filter(pk=detection.vehicle_id).update(fcm_token="fresh-token-from-the-app")
    assert _final_notification(detection).status == "failed"
    wait_for(
        lambda: any(
            e.get("message") == "fcm token retirement ignored: token already replaced"
            for e in pipeline.subscriber.log_events()
        ),
        what="retirement handled",
    )
    assert Vehicle.objects.get(pk=detection.vehicle_id).fcm_token == "fresh-token-from-the-app"


def test_quota_exceeded_is_retried_after_retry_after(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    detection, token = _violation()
    fcm.configure(rules=[{"token": token, "error": "QUOTA_EXCEEDED", "times": 1, "retry_after": 1}])
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = _final_notification(detection)
    assert notification.status == "sent" and notification.retry_count == 1
    [refused] = fcm.refused_for(token)
    [accepted] = [m for m in fcm.state()["messages"] if m["message"]["token"] == token]
    assert accepted["received_at"] - refused["received_at"] >= 1.0  # Retry-After honoured


@pytest.mark.parametrize("error", ["UNAVAILABLE", "INTERNAL"])
def test_a_lasting_outage_exhausts_retries_then_fails_and_dead_letters(
    pipeline: Pipeline, fcm: FcmEmulator, error: str
) -> None:
    detection, token = _violation()
    fcm.configure(rules=[{"token": token, "error": error}])
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    notification = _final_notification(detection, timeout=60)
    assert notification.status == "failed" and "retries exhausted after 3 attempts" in notification.error_message
    assert notification.retry_count == 3
    assert len(fcm.refused_for(token)) == 3 and fcm.messages_to(token) == []

    def dead_letter() -> bool:
        with pipeline.services.amqp() as connection:
            queue = DLQ_QUEUE(connection.default_channel)
            while (message := queue.get()) is not None:
                message.ack()
                if (
                    message.headers.get("task") == ALERT_TASK
                    and json.loads(message.body)[1]["detection_id"] == detection.pk
                ):
                    return True
        return False

    wait_for(dead_letter, what="the alert task in dlq_queue")


def test_a_worker_killed_between_send_and_record_never_pushes_twice(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    detection, token = _violation()
    fcm.configure(latency_ms=1500)
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    wait_for(lambda: fcm.state()["in_flight"] >= 1, what="the send in flight")
    pipeline.alert.stop(signal.SIGKILL)
    wait_for(lambda: len(fcm.messages_to(token)) == 1, what="FCM to accept the push the worker never recorded")
    fcm.configure(latency_ms=0)
    pipeline.alert.start()  # RabbitMQ redelivers the unacknowledged task
    notification = _final_notification(detection, timeout=40)
    assert notification.status == "failed"
    assert notification.error_message.startswith("delivery unknown")
    assert len(fcm.messages_to(token)) == 1


def test_skips_are_recorded_with_their_reason(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    no_token, _ = _violation("34나5678", token=None)
    dispatch_alert(detection_id=no_token.pk, event_id=no_token.event_id)
    assert _final_notification(no_token).error_message == "skipped: vehicle has no FCM token"
    unmatched, _ = _violation("56라7890")
    Detection.objects.filter(pk=unmatched.pk).update(vehicle_id=None)
    dispatch_alert(detection_id=unmatched.pk, event_id=unmatched.event_id)
    assert _final_notification(unmatched).error_message == "skipped: no registered vehicle matched the plate"


def test_the_gevent_pool_sends_concurrently(pipeline: Pipeline, fcm: FcmEmulator) -> None:
    # Long enough that the 20 sends overlap even when the worker starts them slowly (a busy CI).
    fcm.configure(latency_ms=1000)  # below the pipeline's FCM_TIMEOUT_S of 2 s
    detections = [_violation(f"{10 + i}가{1000 + i}")[0] for i in range(20)]
    for detection in detections:
        dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    for detection in detections:
        assert _final_notification(detection).status == "sent"
    # Blocking I/O anywhere in the task (PyMySQL, the SDK's HTTP) would serialise the sends,
    # and tasks holding their connections through the push would cap them at the database
    # pool (4 + 4 overflow in the test pipeline).
    assert fcm.state()["max_in_flight"] >= 16
