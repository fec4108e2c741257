"""The notifications table's uniqueness rules on the real MariaDB."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from backend.notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_at_most_one_sent_notification_per_detection() -> None:
    Notification.objects.create(detection_id=5, dedupe_key="violation:5", status="sent", sent_detection_id=5)
    Notification.objects.create(detection_id=5, dedupe_key="resend:5:a", status="failed")
    Notification.objects.create(detection_id=5, dedupe_key="resend:5:b", status="pending")
    with pytest.raises(IntegrityError), transaction.atomic(using="notifications_db"):
        Notification.objects.create(detection_id=5, dedupe_key="resend:5:c", status="sent", sent_detection_id=5)


def test_sent_guard_must_match_the_status() -> None:
    with pytest.raises(IntegrityError), transaction.atomic(using="notifications_db"):
        Notification.objects.create(detection_id=6, dedupe_key="violation:6", status="sent")
    with pytest.raises(IntegrityError), transaction.atomic(using="notifications_db"):
        Notification.objects.create(detection_id=6, dedupe_key="violation:6b", status="failed", sent_detection_id=6)
