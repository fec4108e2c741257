"""The admin's resend, through the one hand-over module: never lost, never pushed twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.detections import handover
from backend.detections.handover import ResendRefused, resend_alert
from backend.detections.models import Detection
from backend.maintenance.services import sweep_stale_work
from backend.notifications.models import Notification
from tests.factories import NotificationFactory
from tests.support.pipeline import registered_violation

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The alert tasks handed to the broker (recorded here: no worker may take them)."""
    sent: list[int] = []
    monkeypatch.setattr(handover, "dispatch_alert", lambda *, detection_id, event_id: sent.append(detection_id))
    return sent


def failed_alert(error: str) -> tuple[Detection, Notification]:
    _, detection = registered_violation()
    settled_at = timezone.now() - timedelta(hours=2)
    Detection.objects.filter(pk=detection.pk).update(alert_dispatched_at=settled_at, alert_settled_at=settled_at)
    notification = NotificationFactory(
        detection_id=detection.pk,
        status="failed",
        error_message=error,
        fcm_token="fcm-token-of-the-owner",
    )
    return detection, notification


def test_a_resend_reopens_the_sweepers_watch_so_a_lost_one_is_sent_again(published, settings) -> None:
    detection, notification = failed_alert("INTERNAL: FCM had a bad moment")
    assert resend_alert(notification) is True
    assert published == [detection.pk]
    detection.refresh_from_db()
    assert detection.alert_settled_at is None and detection.alert_dispatched_at is not None

    # The resend's task is lost (expired in the queue): the sweeper finds it and hands it on again.
    later = timezone.now() + timedelta(seconds=settings.SWEEP_ALERT_STALE_S + 60)
    run = sweep_stale_work(now=later)
    assert run is not None and run.details.get("alerts_redispatched") == [detection.pk]
    assert published == [detection.pk, detection.pk]


def test_a_delivery_unknown_failure_is_not_resent_without_confirmation(published) -> None:
    _, notification = failed_alert("delivery unknown: the sending worker stopped between send and record")
    with pytest.raises(ResendRefused):
        resend_alert(notification)
    assert published == []
    assert Notification.objects.get(pk=notification.pk).status == "failed"
    assert resend_alert(notification, confirm_delivery_unknown=True) is True
    assert Notification.objects.get(pk=notification.pk).status == "pending"


def test_a_sent_notification_is_never_resent(published) -> None:
    detection, notification = failed_alert("x")
    Notification.objects.filter(pk=notification.pk).update(status="sent", sent_detection_id=detection.pk)
    notification.refresh_from_db()
    assert resend_alert(notification) is False and published == []
