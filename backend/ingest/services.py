"""What the main role does with each MQTT event. Called by the subscriber."""

from __future__ import annotations

import logging
from enum import StrEnum

from django.conf import settings

from backend.contracts.events import (
    EventRejected,
    parse_detection_completed,
    parse_detection_new,
    parse_fcm_token_retired,
)
from backend.detections import services as detection_services
from backend.detections.models import Detection
from backend.detections.selectors import detection_by_id
from backend.messaging.dispatch import dispatch_alert, dispatch_ocr
from backend.vehicles.services import retire_fcm_token

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REDISPATCHED = "redispatched"
    ALERT_DISPATCHED = "alert_dispatched"
    REVIEW_REQUIRED = "review_required"
    TOKEN_RETIRED = "token_retired"
    TOKEN_ALREADY_REPLACED = "token_already_replaced"


def handle_detection_new(payload: bytes) -> Outcome:
    """Record the detection `pending` and hand it to OCR exactly once.

    Raises EventRejected for an invalid payload; any other exception is transient
    and the message must be redelivered.
    """
    event = parse_detection_new(payload, expected_bucket=settings.GCS_BUCKET_NAME)
    detection, created = detection_services.register_detection(event)
    if detection.ocr_dispatched_at is not None:
        return Outcome.DUPLICATE
    hand_to_ocr(detection)
    return Outcome.CREATED if created else Outcome.REDISPATCHED


def hand_to_ocr(detection: Detection) -> None:
    """Publish the OCR task (confirmed by the broker), then record that it was handed over."""
    dispatch_ocr(
        detection_id=detection.pk,
        event_id=detection.event_id,
        detected_speed=detection.detected_speed,
        speed_limit=detection.speed_limit,
    )
    detection_services.mark_ocr_dispatched(detection)


def handle_detection_completed(payload: bytes) -> Outcome:
    """React to a finished plate read by dispatching the alert task.

    A duplicated completion event may dispatch a second alert task; the alert
    worker's claim makes that harmless.
    """
    event = parse_detection_completed(payload)
    detection = detection_by_id(event.detection_id)
    if detection is None or detection.event_id != str(event.event_id):
        raise EventRejected(
            "unknown_detection",
            f"no detection {event.detection_id} with event_id {event.event_id}",
        )
    if detection.needs_review:
        # A person checks the read first; the admin's "Reviewed" action sends the alert then.
        logger.info(
            "alert withheld: detection needs review",
            extra={"event_id": detection.event_id, "detection_id": detection.pk, "reason": detection.review_reason},
        )
        return Outcome.REVIEW_REQUIRED
    hand_to_alert(detection)
    return Outcome.ALERT_DISPATCHED


def hand_to_alert(detection: Detection) -> None:
    """Publish the alert task (confirmed by the broker), then record that it was handed over."""
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    detection_services.mark_alert_dispatched(detection.pk)


def handle_fcm_token_retired(payload: bytes) -> Outcome:
    """The alert worker found a dead token: clear it on the vehicle (main owns vehicles_db)."""
    event = parse_fcm_token_retired(payload)
    cleared = retire_fcm_token(vehicle_id=event.vehicle_id, fcm_token=event.fcm_token)
    logger.info(
        "fcm token retired" if cleared else "fcm token retirement ignored: token already replaced",
        extra={"vehicle_id": event.vehicle_id, "reason": event.reason},
    )
    return Outcome.TOKEN_RETIRED if cleared else Outcome.TOKEN_ALREADY_REPLACED
