"""The alert service in-process: claim, push, record, with a fake sender in place of FCM.

The end-to-end tests (test_tasks.py) run the same paths through the real gevent worker
and firebase-admin; these pin down the claim protocol's branches, races included, in
milliseconds. transaction=True: the racing claims run on their own connections.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.alert.messages import PushMessage
from backend.alert.senders import PermanentPushError, TransientPushError, UnknownOutcomePushError
from backend.alert.services import DetectionNotReady, send_violation_alert
from backend.notifications import services as notification_services
from backend.notifications.models import Notification
from tests.support.concurrency import at_once
from tests.support.pipeline import registered_violation

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


class FakeSender:
    """Records what it was asked to push; raises `error` instead when given one."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[PushMessage] = []

    def send(self, message: PushMessage) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append(message)
        return f"projects/test/messages/{len(self.sent)}"


def notification_of(detection_id: int) -> Notification:
    return Notification.objects.get(detection_id=detection_id)


def test_one_push_then_every_redelivery_is_a_no_op() -> None:
    vehicle, detection = registered_violation()
    sender = FakeSender()
    send_violation_alert(detection.pk, sender=sender)
    send_violation_alert(detection.pk, sender=sender)  # a redelivered task
    assert [message.token for message in sender.sent] == [vehicle.fcm_token]
    notification = notification_of(detection.pk)
    assert notification.status == Notification.Status.SENT and notification.claim_token is None


def test_a_claim_held_by_a_live_sender_makes_the_other_delivery_wait() -> None:
    _, detection = registered_violation()
    claim = notification_services.claim_violation_alert(
        detection_id=detection.pk, fcm_token="t", title="title", body="body"
    )
    assert claim is not None
    with pytest.raises(notification_services.ClaimHeld) as held:
        send_violation_alert(detection.pk, sender=FakeSender())
    assert held.value.age_s < 3
    notification_services.record_sent(claim, provider_message_id="m-1")
    send_violation_alert(detection.pk, sender=(late := FakeSender()))
    assert late.sent == [] and notification_of(detection.pk).status == Notification.Status.SENT


def test_a_stale_claim_is_failed_as_delivery_unknown_never_sent_again(settings) -> None:
    _, detection = registered_violation()
    notification_services.claim_violation_alert(detection_id=detection.pk, fcm_token="t", title="title", body="body")
    Notification.objects.filter(detection_id=detection.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.ALERT_CLAIM_STALE_S + 1)
    )
    sender = FakeSender()
    send_violation_alert(detection.pk, sender=sender)
    notification = notification_of(detection.pk)
    assert sender.sent == []
    assert notification.status == Notification.Status.FAILED
    assert notification.error_message.startswith(Notification.DELIVERY_UNKNOWN)


@pytest.mark.parametrize("plate", [f"{n}가3456" for n in range(11, 31)])  # a race is a matter of luck: 20 rounds
def test_racing_deliveries_push_exactly_once(plate: str) -> None:
    """Eight deliveries of the same task at once, each on its own connection: one pushes,
    the others find the claim held or the notification sent, and none dies of a deadlock
    (a claim selected by status deadlocked with record_sent in 8 rounds of 460)."""
    _, detection = registered_violation(plate)
    sender = FakeSender()

    def deliver() -> str:
        try:
            send_violation_alert(detection.pk, sender=sender)
            return "done"
        except notification_services.ClaimHeld:
            return "held"
        except Exception as error:
            return f"{type(error).__name__}: {error}"

    outcomes = at_once(deliver)
    assert len(sender.sent) == 1
    assert set(outcomes) <= {"done", "held"} and len(outcomes) == 8 and "done" in outcomes, outcomes
    assert notification_of(detection.pk).status == Notification.Status.SENT


@pytest.mark.parametrize(
    ("error", "status", "retries"),
    [
        (TransientPushError("503 from FCM"), Notification.Status.PENDING, 1),
        (PermanentPushError("invalid argument"), Notification.Status.FAILED, 0),
        (UnknownOutcomePushError("read timeout"), Notification.Status.FAILED, 0),
    ],
)
def test_each_send_outcome_leaves_the_notification_in_its_state(error: Exception, status: str, retries: int) -> None:
    _, detection = registered_violation()
    if isinstance(error, TransientPushError):
        with pytest.raises(TransientPushError):
            send_violation_alert(detection.pk, sender=FakeSender(error))
    else:
        send_violation_alert(detection.pk, sender=FakeSender(error))
    notification = notification_of(detection.pk)
    assert (notification.status, notification.retry_count, notification.claim_token) == (status, retries, None)
    if isinstance(error, UnknownOutcomePushError):
        assert notification.error_message.startswith(Notification.DELIVERY_UNKNOWN)


def test_no_vehicle_no_token_and_review_never_push() -> None:
    _, no_token = registered_violation(plate="34나5678", token=None)
    sender = FakeSender()
    send_violation_alert(no_token.pk, sender=sender)
    assert notification_of(no_token.pk).status == Notification.Status.FAILED
    _, held = registered_violation(plate="56다7890")
    type(held).objects.filter(pk=held.pk).update(needs_review=True, review_reason="low confidence")
    with pytest.raises(DetectionNotReady):
        send_violation_alert(held.pk, sender=sender)
    assert sender.sent == []
