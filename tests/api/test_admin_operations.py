"""Admin operations on the running pipeline: re-run OCR, resend, dead letters, snapshot."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backend.config.celery import app as celery_app
from backend.detections.models import Detection
from backend.messaging import dlq
from backend.messaging.dispatch import dispatch_alert
from backend.notifications.models import Notification
from harness.processes import Pipeline, wait_for
from tests.support.events import encode, publish_detections, uploaded_event
from tests.support.pipeline import registered_violation, wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture
def admin_browser() -> Client:
    get_user_model().objects.create_superuser("root", password="pw")
    browser = Client()
    browser.login(username="root", password="pw")
    return browser


def test_rerun_ocr_and_snapshot_preview(pipeline: Pipeline, admin_browser: Client) -> None:
    event = uploaded_event(pipeline.services, "78마1234")
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    page = admin_browser.get(f"/admin/detections/detection/{detection.pk}/change/").content.decode()
    assert "<img src=" in page and "/image/?signature=" in page

    response = admin_browser.post(
        "/admin/detections/detection/", {"action": "rerun_ocr", "_selected_action": [detection.pk]}
    )
    assert response.status_code == 302
    # The OCR worker processes the detection a second time and completes it again.
    wait_for(
        lambda: (
            sum(
                1
                for e in pipeline.all_log_events()
                if e.get("event_id") == event["event_id"] and e["message"] == "detection completed announced"
            )
            == 2
        ),
        what="the re-run",
    )
    rerun = Detection.objects.get(pk=detection.pk)
    assert rerun.status == "completed" and rerun.ocr_result == "78마1234"


def test_a_reviewed_detection_is_notified(pipeline: Pipeline, admin_browser: Client) -> None:
    vehicle, detection = registered_violation("34나5678")
    Detection.objects.filter(pk=detection.pk).update(needs_review=True, review_reason="low confidence 0.41 < 0.50")
    admin_browser.post("/admin/detections/detection/", {"action": "approve_review", "_selected_action": [detection.pk]})
    detection.refresh_from_db()
    assert not detection.needs_review and detection.review_reason is None
    sent = wait_for(lambda: Notification.objects.filter(detection_id=detection.pk, status="sent").first())
    assert sent.fcm_token == vehicle.fcm_token


def test_resend_a_failed_notification(pipeline: Pipeline, admin_browser: Client) -> None:
    fcm = pipeline.services.fcm
    fcm.reset()
    vehicle, detection = registered_violation("12가3456", token="fcm-resend-token-0123456789")
    fcm.configure(rules=[{"token": vehicle.fcm_token, "error": "INTERNAL"}])
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    failed = wait_for(
        lambda: Notification.objects.filter(detection_id=detection.pk, status="failed").first(),
        timeout=60,
        what="the push to fail",
    )
    fcm.configure(rules=[])
    admin_browser.post("/admin/notifications/notification/", {"action": "resend", "_selected_action": [failed.pk]})
    wait_for(lambda: Notification.objects.get(pk=failed.pk).status == "sent", what="the resend")
    assert len(fcm.messages_to(vehicle.fcm_token)) == 1


def test_dead_letters_are_listed_and_replayed(pipeline: Pipeline, admin_browser: Client) -> None:
    with celery_app.connection_for_write() as connection:
        dlq.purge(connection)
    fcm = pipeline.services.fcm
    fcm.reset()
    # Still processing: the alert task is rejected as not ready and dead-lettered.
    vehicle, detection = registered_violation("34나5678", token="fcm-dlq-token-0123456789abc", status="processing")
    task_id = dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)  # not completed: dead letter
    wait_for(
        lambda: "ok" if any(letter.task_id == task_id for letter in _peek()) else None, what="the task in dlq_queue"
    )
    page = admin_browser.get("/admin/dlq/").content.decode()
    assert task_id in page and "alert.send_notification" in page and "rejected" in page

    Detection.objects.filter(pk=detection.pk).update(status="completed")  # the cause, fixed
    admin_browser.post("/admin/dlq/", {"action": "replay", "task_id": [task_id]})
    wait_for(
        lambda: Notification.objects.filter(detection_id=detection.pk, status="sent").exists(),
        what="the replayed task to push",
    )
    assert all(letter.task_id != task_id for letter in _peek())
    assert json.loads(json.dumps(fcm.messages_to(vehicle.fcm_token)))[0]["data"]["plate"] == "34나5678"


def test_only_superusers_see_dead_letters() -> None:
    get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    browser = Client()
    browser.login(username="staff", password="pw")
    assert browser.get("/admin/dlq/").status_code == 403


def _peek() -> list[dlq.DeadLetter]:
    with celery_app.connection_for_write() as connection:
        return dlq.peek(connection)
