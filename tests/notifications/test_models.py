"""The notifications table's uniqueness rules on the real MariaDB."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from backend.notifications.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def test_at_most_one_sent_notification_per_detection() -> None:
    NotificationFactory(detection_id=5, dedupe_key="violation:5", status="sent", sent_detection_id=5)
    NotificationFactory(detection_id=5, dedupe_key="resend:5:a", status="failed")
    NotificationFactory(detection_id=5, dedupe_key="resend:5:b", status="pending")
    with pytest.raises(IntegrityError), transaction.atomic(using="notifications_db"):
        NotificationFactory(detection_id=5, dedupe_key="resend:5:c", status="sent", sent_detection_id=5)


def test_sent_guard_must_match_the_status() -> None:
    with pytest.raises(IntegrityError), transaction.atomic(using="notifications_db"):
        NotificationFactory(detection_id=6, dedupe_key="violation:6", status="sent")
    with pytest.raises(IntegrityError), transaction.atomic(using="notifications_db"):
        NotificationFactory(detection_id=6, dedupe_key="violation:6b", status="failed", sent_detection_id=6)


def test_a_reopened_skip_that_is_still_unsendable_fails_again() -> None:
    from backend.notifications import services

    skipped = services.record_skipped(detection_id=7, reason="vehicle has no FCM token")
    assert skipped.status == "failed"
    assert services.reopen_failed(skipped)
    again = services.record_skipped(detection_id=7, reason="vehicle has no FCM token")
    assert again.pk == skipped.pk and again.status == "failed"
    assert again.error_message == "skipped: vehicle has no FCM token"


def test_a_sent_notification_is_never_reopened() -> None:
    from backend.notifications import services

    sent = NotificationFactory(detection_id=8, dedupe_key="violation:8", status="sent", sent_detection_id=8)
    assert services.reopen_failed(sent) is False
    assert Notification.objects.get(pk=sent.pk).status == "sent"
