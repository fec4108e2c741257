"""Retention on the real databases and the GCS emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from google.api_core.exceptions import NotFound

from backend.detections.models import Detection
from backend.detections.selectors import violation_figures
from backend.maintenance.services import apply_retention
from backend.notifications.models import Notification
from tests.factories import DetectionFactory, NotificationFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def violation(
    services, *, days_old: int, vehicle_id: int | None, status: str = "completed", image_gcs_uri: str | None = None
) -> Detection:
    detected_at = timezone.now() - timedelta(days=days_old)
    detection = DetectionFactory(
        detected_speed=95.0,
        speed_limit=60.0,
        camera_id="cam-retention",
        image_gcs_uri=image_gcs_uri or services.upload(b"\xff\xd8 jpeg bytes"),
        image_sha256="0" * 64,
        detected_at=detected_at,
        image_verified_at=detected_at if status == "completed" else None,
        status=status,
        ocr_result="12가3456" if vehicle_id else None,
        vehicle_id=vehicle_id,
    )
    if vehicle_id:
        NotificationFactory(
            detection_id=detection.pk,
            fcm_token="token-of-the-owner",
            title="과속 위반 알림",
            body="12가3456 차량이 95km/h로 ...",
            status="sent",
            sent_detection_id=detection.pk,
            sent_at=detection.detected_at,
        )
    return detection


def image_exists(services, uri: str) -> bool:
    bucket, name = uri.removeprefix("gs://").split("/", 1)
    try:
        services.storage().bucket(bucket).blob(name).reload()
    except NotFound:
        return False
    return True


def test_each_kind_is_kept_for_its_own_period_and_statistics_survive(pipeline, settings) -> None:
    settings.RETENTION_UNMATCHED_DAYS = 30
    settings.RETENTION_NOTIFIED_DAYS = 365
    services = pipeline.services
    old_unmatched = violation(services, days_old=40, vehicle_id=None)
    young_unmatched = violation(services, days_old=10, vehicle_id=None)
    notified_in_period = violation(services, days_old=40, vehicle_id=7)
    old_notified = violation(services, days_old=400, vehicle_id=8)
    still_pending = violation(services, days_old=400, vehicle_id=None, status="pending")
    uris = {d.pk: d.image_gcs_uri for d in (old_unmatched, young_unmatched, notified_in_period, old_notified)}

    run = apply_retention()

    assert run is not None
    assert run.summary["unmatched_purged"] == 1 and run.summary["notified_purged"] == 1
    assert run.summary["images_deleted"] == 2
    for purged in (old_unmatched, old_notified):
        purged.refresh_from_db()
        assert purged.personal_data_purged_at is not None
        assert purged.ocr_result is None and purged.vehicle_id is None and purged.image_gcs_uri == ""
        assert not image_exists(services, uris[purged.pk])
        # What statistics need stays.
        assert purged.camera_id == "cam-retention" and purged.detected_speed == 95.0
    for kept in (young_unmatched, notified_in_period, still_pending):
        kept.refresh_from_db()
        assert kept.personal_data_purged_at is None and kept.image_gcs_uri
    assert image_exists(services, uris[notified_in_period.pk])
    scrubbed = Notification.objects.get(detection_id=old_notified.pk)
    assert scrubbed.fcm_token is None and scrubbed.body is None and scrubbed.status == "sent"
    assert Notification.objects.get(detection_id=notified_in_period.pk).fcm_token == "token-of-the-owner"
    per_camera = violation_figures(timezone.now() - timedelta(days=500), timezone.now()).per_camera
    assert per_camera["cam-retention"] == 5
    assert apply_retention().summary.get("unmatched_purged", 0) == 0  # nothing left to do


def test_an_image_that_cannot_be_deleted_keeps_its_detection_for_the_next_run(pipeline) -> None:
    services = pipeline.services
    detection = violation(services, days_old=400, vehicle_id=None)
    services.stop_gcs()
    try:
        run = apply_retention()
    finally:
        services.start_gcs()
    assert run is not None and run.details["image_delete_errors"] == [detection.pk]
    detection.refresh_from_db()
    assert detection.personal_data_purged_at is None
    # The in-memory emulator came back empty: the object is gone, the purge completes.
    run = apply_retention()
    assert run.summary["unmatched_purged"] == 1 and run.summary["images_already_gone"] == 1


def test_evidence_that_was_never_verified_or_is_shared_is_not_deleted(pipeline) -> None:
    """A camera that points its event at another camera's object gets a hash mismatch;
    retention of that failed detection must not delete the other camera's evidence."""
    services = pipeline.services
    victim = violation(services, days_old=10, vehicle_id=None)
    forged = violation(services, days_old=400, vehicle_id=None, status="failed", image_gcs_uri=victim.image_gcs_uri)
    reused = violation(services, days_old=400, vehicle_id=None)
    sharer = violation(services, days_old=10, vehicle_id=None, image_gcs_uri=reused.image_gcs_uri)

    run = apply_retention()

    assert run.details["images_kept_unverified"] == [forged.pk]
    assert run.details["images_kept_shared"] == [reused.pk]
    assert "images_deleted" not in run.summary
    assert image_exists(services, victim.image_gcs_uri) and image_exists(services, sharer.image_gcs_uri)
    for purged in (forged, reused):
        purged.refresh_from_db()
        assert purged.personal_data_purged_at is not None and purged.image_gcs_uri == ""
