"""Every role exposes Prometheus metrics: the workers' own endpoints, after real traffic."""

from __future__ import annotations

import urllib.request

import pytest

from harness.processes import ALERT_METRICS_PORT, OCR_METRICS_PORT, scrape, wait_for
from tests.factories import VehicleFactory
from tests.support.events import encode, publish_detections, uploaded_event
from tests.support.pipeline import wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_ocr_and_alert_workers_count_tasks_outcomes_and_stage_latency(pipeline) -> None:
    VehicleFactory(plate_number="90바1234", owner_name="이영희", fcm_token="metrics-token")
    event = uploaded_event(pipeline.services, "90바1234")
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert wait_notification(detection.pk).status == "sent"

    # Prefork children report through the parent's endpoint (multiprocess mode).
    wait_for(
        lambda: scrape(OCR_METRICS_PORT, "speedcam_tasks_total", task="ocr.process_detection", state="SUCCESS") >= 1,
        what="OCR task counted",
    )
    assert scrape(OCR_METRICS_PORT, "speedcam_ocr_reads_total", result="exact") >= 1
    assert scrape(OCR_METRICS_PORT, "speedcam_ocr_detected_to_read_seconds_count") >= 1
    assert scrape(OCR_METRICS_PORT, "speedcam_task_seconds_count", task="ocr.process_detection") >= 1
    wait_for(
        lambda: scrape(ALERT_METRICS_PORT, "speedcam_alert_pushes_total", outcome="sent") >= 1,
        what="push counted",
    )
    assert scrape(ALERT_METRICS_PORT, "speedcam_tasks_total", task="alert.send_notification", state="SUCCESS") >= 1
    assert scrape(ALERT_METRICS_PORT, "speedcam_alert_detected_to_push_seconds_count") >= 1
    # Queue depth gauges are read from RabbitMQ at scrape time.
    exposition = urllib.request.urlopen(f"http://127.0.0.1:{ALERT_METRICS_PORT}/metrics", timeout=5).read().decode()
    assert 'speedcam_queue_messages{queue="fcm_queue"}' in exposition
