"""The alert role's work on one completed detection: claim, push, record."""

from __future__ import annotations

import logging

from backend.alert.messages import violation_message
from backend.alert.senders import PermanentPushError, PushSender
from backend.detections.models import Detection
from backend.detections.selectors import detection_by_id
from backend.notifications import services as notification_services
from backend.vehicles.selectors import vehicle_by_id

logger = logging.getLogger(__name__)


class DetectionNotReady(Exception):
    """The detection does not exist or has no completed read: nothing to notify."""


def send_violation_alert(detection_id: int, *, sender: PushSender) -> None:
    """Push the violation to the owner at most once. Transient send errors propagate
    (after the claim is released) so the task can retry."""
    detection = detection_by_id(detection_id)
    if detection is None or detection.status != Detection.Status.COMPLETED:
        raise DetectionNotReady(f"detection {detection_id} is not completed")
    event_id = detection.event_id
    vehicle = vehicle_by_id(detection.vehicle_id) if detection.vehicle_id else None
    if vehicle is None:
        notification_services.record_skipped(
            detection_id=detection_id, event_id=event_id, reason="no registered vehicle matched the plate"
        )
        return
    if not vehicle.fcm_token:
        notification_services.record_skipped(
            detection_id=detection_id, event_id=event_id, reason="vehicle has no FCM token"
        )
        return
    message = violation_message(detection, plate=vehicle.plate_number, token=vehicle.fcm_token)
    claim = notification_services.claim_violation_alert(
        detection_id=detection_id,
        event_id=event_id,
        fcm_token=message.token,
        title=message.title,
        body=message.body,
    )
    if claim is None:
        return
    try:
        provider_message_id = sender.send(message)
    except PermanentPushError as error:
        notification_services.record_failed(claim, event_id=event_id, error=str(error))
        return
    except Exception as error:
        notification_services.release_for_retry(claim, event_id=event_id, error=f"{type(error).__name__}: {error}")
        raise
    notification_services.record_sent(claim, event_id=event_id, provider_message_id=provider_message_id)
