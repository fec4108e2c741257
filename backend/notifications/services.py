"""Writes to notifications_db: the claim-send-record cycle that keeps pushes exactly once.

1. `claim_violation_alert` creates (or finds) the one notification row for the
   detection and atomically takes a claim on it. Only the claim holder sends.
2. After the send, `record_sent` / `record_failed` / `release_for_retry` finish the
   claim. A worker that dies between send and record leaves the claim in place, so
   a redelivered task sees it and does not push a second time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from backend.common.db import update_row_if
from backend.common.events_log import log_transition
from backend.notifications.counts import NOTIFICATION_COUNTS
from backend.notifications.models import Notification

logger = logging.getLogger(__name__)
DB = "notifications_db"
Status = Notification.Status


def violation_dedupe_key(detection_id: int) -> str:
    return f"violation:{detection_id}"


@dataclass(frozen=True)
class Claim:
    notification: Notification
    token: str


class ClaimHeld(Exception):
    """Another delivery holds the send claim: sending now, or died with the outcome unknown."""

    def __init__(self, notification: Notification, age_s: float) -> None:
        super().__init__(f"notification {notification.pk} is claimed since {age_s:.1f}s")
        self.notification = notification
        self.age_s = age_s


def _notification_for(detection_id: int, **defaults: object) -> Notification:
    key = violation_dedupe_key(detection_id)
    try:
        with transaction.atomic(using=DB):
            notification, _ = Notification.objects.get_or_create(
                dedupe_key=key, defaults={"detection_id": detection_id, **defaults}
            )
    except IntegrityError:
        notification = Notification.objects.get(dedupe_key=key)
    return notification


def _pending_and_unclaimed(notification: Notification) -> bool:
    return notification.status == Status.PENDING and notification.claim_token is None


def claim_violation_alert(*, detection_id: int, fcm_token: str, title: str, body: str) -> Claim | None:
    """Take the right to push the alert for this detection.

    Returns None when the notification is already final (sent or failed); raises
    ClaimHeld when another delivery holds the claim.
    """
    token = str(uuid.uuid4())
    now = timezone.now()
    fields = {"fcm_token": fcm_token, "title": title, "body": body, "claim_token": token, "claimed_at": now}
    try:
        # First delivery (the usual case): one INSERT, atomic on its own in autocommit,
        # creates the row already claimed.
        notification = Notification.objects.create(
            detection_id=detection_id, dedupe_key=violation_dedupe_key(detection_id), **fields
        )
        return Claim(notification=notification, token=token)
    except IntegrityError:
        pass
    # A redelivery or a retry: claim the existing row if it is pending and unclaimed.
    existing = Notification.objects.get(dedupe_key=violation_dedupe_key(detection_id))
    current, claimed = update_row_if(Notification, existing.pk, _pending_and_unclaimed, updated_at=now, **fields)
    if current is None or current.status != Status.PENDING:  # final (or deleted meanwhile): nothing to send
        return None
    notification = current
    if claimed:
        return Claim(notification=notification, token=token)
    age_s = (now - notification.claimed_at).total_seconds() if notification.claimed_at else 0.0
    log_transition(
        logger,
        "notification claim held elsewhere",
        detection_id=detection_id,
        notification_id=notification.pk,
        claim_age_s=round(age_s, 3),
    )
    raise ClaimHeld(notification, age_s)


def fail_abandoned_claim(held: ClaimHeld) -> None:
    """The claim holder died between send and record: the push may or may not have gone
    out. Never send again; record that the outcome is unknown."""
    notification = held.notification
    reason = (
        f"{Notification.DELIVERY_UNKNOWN}: the sending worker stopped between send and record "
        f"(claimed {held.age_s:.0f}s ago)"
    )
    update_row_if(
        Notification,
        notification.pk,
        lambda current: current.status == Status.PENDING and current.claim_token == notification.claim_token,
        status=Status.FAILED,
        claim_token=None,
        error_message=reason,
        updated_at=timezone.now(),
    )
    log_transition(
        logger,
        "notification failed",
        detection_id=notification.detection_id,
        notification_id=notification.pk,
        level=logging.WARNING,
        status=Status.FAILED,
        error=reason,
    )


def record_sent(claim: Claim, *, provider_message_id: str) -> None:
    now = timezone.now()
    Notification.objects.filter(pk=claim.notification.pk, claim_token=claim.token).update(
        status=Status.SENT,
        sent_at=now,
        sent_detection_id=claim.notification.detection_id,
        claim_token=None,
        error_message=None,
        updated_at=now,
    )
    log_transition(
        logger,
        "notification sent",
        detection_id=claim.notification.detection_id,
        notification_id=claim.notification.pk,
        status=Status.SENT,
        provider_message_id=provider_message_id,
    )


def release_for_retry(claim: Claim, *, error: str) -> int:
    """Give the claim back after a send that certainly did not deliver; count the attempt."""
    notification = claim.notification
    retry_count = notification.retry_count + 1
    Notification.objects.filter(pk=notification.pk, claim_token=claim.token).update(
        claim_token=None, retry_count=F("retry_count") + 1, error_message=error[:2000], updated_at=timezone.now()
    )
    log_transition(
        logger,
        "notification retry",
        detection_id=notification.detection_id,
        notification_id=notification.pk,
        level=logging.WARNING,
        retry_count=retry_count,
        error=error,
    )
    return retry_count


def record_failed(claim: Claim, *, error: str) -> None:
    Notification.objects.filter(pk=claim.notification.pk, claim_token=claim.token).update(
        status=Status.FAILED, claim_token=None, error_message=error[:2000], updated_at=timezone.now()
    )
    log_transition(
        logger,
        "notification failed",
        detection_id=claim.notification.detection_id,
        notification_id=claim.notification.pk,
        level=logging.WARNING,
        status=Status.FAILED,
        error=error,
    )


def record_skipped(*, detection_id: int, reason: str) -> Notification:
    """Record that no push is possible for this detection (no vehicle, no token), with why."""
    message = f"skipped: {reason}"
    notification = _notification_for(detection_id, status=Status.FAILED, error_message=message)
    if notification.status == Status.PENDING:  # reopened by an operator, and still not sendable
        current, _ = update_row_if(
            Notification,
            notification.pk,
            _pending_and_unclaimed,
            status=Status.FAILED,
            error_message=message,
            updated_at=timezone.now(),
        )
        notification = current or notification
    log_transition(
        logger,
        "notification skipped",
        detection_id=detection_id,
        notification_id=notification.pk,
        status=notification.status,
        reason=reason,
    )
    return notification


def reopen_failed(notification: Notification) -> bool:
    """Make a failed notification sendable again (an operator asked to resend). A sent one
    stays sent: at most one sent notification per detection."""
    _, reopened = update_row_if(
        Notification,
        notification.pk,
        lambda current: current.status == Status.FAILED,
        status=Status.PENDING,
        claim_token=None,
        claimed_at=None,
        error_message=None,
        updated_at=timezone.now(),
    )
    if reopened:
        log_transition(
            logger,
            "notification reopened",
            detection_id=notification.detection_id,
            notification_id=notification.pk,
            status=Status.PENDING,
            was=notification.error_message,
        )
    return bool(reopened)


def fail_pending_alert(*, detection_id: int, reason: str) -> None:
    """Retries are exhausted: the violation alert is failed for good."""
    notification_id = (
        Notification.objects.filter(dedupe_key=violation_dedupe_key(detection_id)).values_list("pk", flat=True).first()
    )
    if notification_id is not None:
        update_row_if(
            Notification,
            notification_id,
            _pending_and_unclaimed,
            status=Status.FAILED,
            error_message=reason[:2000],
            updated_at=timezone.now(),
        )
    log_transition(
        logger,
        "notification failed",
        detection_id=detection_id,
        level=logging.WARNING,
        status=Status.FAILED,
        error=reason,
    )


def scrub_personal_data(detection_ids: list[int]) -> int:
    """Retention: forget the token and the message text (it names the plate); keep the
    status and times of what was sent."""
    if not detection_ids:
        return 0
    return Notification.objects.filter(detection_id__in=detection_ids).update(
        fcm_token=None, title=None, body=None, updated_at=timezone.now()
    )


def refresh_hourly_counts() -> int:
    """Take the notifications created or changed since the last refresh into the hourly
    counts; returns how many hours were recounted."""
    return NOTIFICATION_COUNTS.refresh()
