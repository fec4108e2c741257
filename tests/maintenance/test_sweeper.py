"""The stale-work sweeper against the running pipeline: what it re-dispatches really completes."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from backend.detections.models import Detection
from backend.maintenance.models import MaintenanceRun
from backend.maintenance.services import sweep_stale_work
from edge.sample import render_snapshot
from harness.processes import stop_all, wait_for
from tests.factories import DetectionFactory, NotificationFactory, PendingDetectionFactory, VehicleFactory
from tests.support.pipeline import pushes_to, wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
LATER = timedelta(hours=1)


def stranded_detection(services, plate: str, **fields: object) -> Detection:
    """A detection recorded but never handed to OCR: the publish after the commit was lost."""
    image = render_snapshot(plate, width=640, height=360)
    values = {
        "detected_speed": 95.0,
        "speed_limit": 60.0,
        "camera_id": "cam-07",
        "image_gcs_uri": services.upload(image),
        "image_sha256": hashlib.sha256(image).hexdigest(),
        "detected_at": timezone.now(),
    }
    return PendingDetectionFactory(**{**values, **fields})


def test_a_stranded_detection_is_redispatched_read_and_notified(pipeline) -> None:
    vehicle = VehicleFactory(plate_number="12가3456", owner_name="홍길동", fcm_token=f"t-{uuid.uuid4().hex}")
    stranded = stranded_detection(pipeline.services, "12가3456")
    another = stranded_detection(pipeline.services, "34나5678")
    an_hour_ago = timezone.now() - LATER
    Detection.objects.filter(pk__in=[stranded.pk, another.pk]).update(created_at=an_hour_ago, updated_at=an_hour_ago)

    # The real clock: a detection the OCR worker completes meanwhile is not stale for the alert sweep.
    run = sweep_stale_work()

    assert run is not None and run.summary["ocr_redispatched"] == 2
    assert set(run.details["ocr_redispatched"]) == {stranded.pk, another.pk}
    detection = wait_detection(stranded.event_id)
    assert detection.status == "completed" and detection.vehicle_id == vehicle.pk
    assert detection.sweep_count == 1 and detection.ocr_dispatched_at is not None
    assert wait_notification(detection.pk).status == "sent"
    assert len(pushes_to(pipeline, vehicle.fcm_token)) == 1


def test_recent_work_is_left_alone() -> None:
    PendingDetectionFactory(detected_at=timezone.now())
    run = sweep_stale_work()
    assert run is not None and run.summary.get("ocr_redispatched", 0) == 0


def test_a_completed_detection_whose_alert_was_lost_is_notified_once(pipeline) -> None:
    token = f"t-{uuid.uuid4().hex}"
    vehicle = VehicleFactory(plate_number="56라7890", owner_name="김철수", fcm_token=token)
    lost = stranded_detection(
        pipeline.services,
        "56라7890",
        status=Detection.Status.COMPLETED,
        ocr_result="56라7890",
        vehicle_id=vehicle.pk,
        processed_at=timezone.now() - LATER,
    )

    run = sweep_stale_work()

    assert run is not None and run.details["alerts_redispatched"] == [lost.pk]
    assert wait_notification(lost.pk).status == "sent"
    # Its notification is final now: the next sweep settles it instead of sending again.
    second = sweep_stale_work(now=timezone.now() + 2 * LATER)
    assert second is not None and second.summary.get("alerts_redispatched", 0) == 0
    assert second.summary["alerts_settled"] == 1
    lost.refresh_from_db()
    assert lost.alert_settled_at is not None
    third = sweep_stale_work(now=timezone.now() + 3 * LATER)
    assert third is not None and third.summary.get("alerts_settled", 0) == 0
    assert len(pushes_to(pipeline, token)) == 1


def test_work_that_never_finishes_is_failed_after_the_attempt_limit(settings) -> None:
    detection = PendingDetectionFactory(
        detected_at=timezone.now(), status=Detection.Status.PROCESSING, sweep_count=settings.SWEEP_MAX_ATTEMPTS
    )
    run = sweep_stale_work(now=timezone.now() + LATER)
    assert run is not None and run.details["ocr_given_up"] == [detection.pk]
    detection.refresh_from_db()
    assert detection.status == "failed"
    assert "re-dispatched" in detection.error_message


def test_an_alert_in_progress_is_not_redispatched() -> None:
    detection = DetectionFactory(detected_at=timezone.now() - LATER, processed_at=timezone.now() - LATER, vehicle_id=1)
    NotificationFactory(detection_id=detection.pk, status="pending")
    run = sweep_stale_work()
    assert run is not None and run.summary.get("alerts_redispatched", 0) == 0


def test_a_second_sweep_while_one_runs_does_nothing() -> None:
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK('speedcam.sweep_stale_work', 0)")
        before = MaintenanceRun.objects.count()
        assert sweep_stale_work() is None
        assert MaintenanceRun.objects.count() == before
    finally:
        holder.close()


def test_beat_schedules_the_sweep_and_the_maintenance_worker_runs_it(pipeline) -> None:
    """The schedule from the topology module, through real beat and worker processes."""
    worker, beat = pipeline.maintenance_roles(
        SWEEP_INTERVAL_S="1", OCR_TIME_LIMIT_S="5", SWEEP_OCR_STALE_S="6", SWEEP_ALERT_STALE_S="6"
    )
    stranded = stranded_detection(pipeline.services, "78마1234")
    Detection.objects.filter(pk=stranded.pk).update(
        created_at=timezone.now() - LATER, updated_at=timezone.now() - LATER
    )
    worker.start()
    beat.start()
    try:
        assert wait_detection(stranded.event_id, timeout=60).status == "completed"
        wait_for(lambda: MaintenanceRun.objects.filter(job="sweep").exists(), what="a recorded sweep run")
    finally:
        stop_all((beat, worker))
    assert "stale detection re-dispatched to OCR" in worker.log_text()
