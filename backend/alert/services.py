"""The alert role's work on one completed detection: claim, push, record."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from backend.alert import metrics
from backend.alert.messages import violation_message
from backend.alert.senders import PermanentPushError, PushSender, UnknownOutcomePushError
from backend.common import tracing
from backend.common.db import release_pooled_connections
from backend.common.events_log import log_transition
from backend.contracts.events import TOPIC_FCM_TOKEN_RETIRED, FcmTokenRetiredEvent
from backend.detections.models import Detection
from backend.detections.selectors import detection_by_id
from backend.messaging.mqtt import MqttPublishError, process_publisher
from backend.notifications import services as notification_services
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from backend.vehicles.selectors import vehicle_by_id

logger = logging.getLogger(__name__)
MQTT_CLIENT_PREFIX = "speedcam-alert"


class DetectionNotReady(Exception):
    """The detection does not exist or has no completed read: nothing to notify."""


def send_violation_alert(detection_id: int, *, sender: PushSender) -> None:
    """Push the violation to the owner at most once.

    Raises TransientPushError (claim released) or ClaimHeld (another delivery is
    sending) for the task to retry later.
    """
    detection = detection_by_id(detection_id)
    if detection is None or detection.status != Detection.Status.COMPLETED:
        raise DetectionNotReady(f"detection {detection_id} is not completed")
    if detection.needs_review:  # whatever sent this task: no push before a person decides
        raise DetectionNotReady(f"detection {detection_id} waits for review: {detection.review_reason}")
    vehicle = vehicle_by_id(detection.vehicle_id) if detection.vehicle_id else None
    if vehicle is None:
        notification_services.record_skipped(
            detection_id=detection_id, reason="no registered vehicle matched the plate"
        )
        metrics.PUSHES.labels("skipped_no_vehicle").inc()
        return
    if not vehicle.fcm_token:
        notification_services.record_skipped(detection_id=detection_id, reason="vehicle has no FCM token")
        metrics.PUSHES.labels("skipped_no_token").inc()
        return
    message = violation_message(detection, plate=vehicle.plate_number, token=vehicle.fcm_token)
    trace_attributes: dict[str, Any] = {"event_id": detection.event_id, "detection_id": detection_id}
    try:
        with tracing.span("alert claim", **trace_attributes):
            claim = notification_services.claim_violation_alert(
                detection_id=detection_id,
                fcm_token=message.token,
                title=message.title,
                body=message.body,
            )
    except notification_services.ClaimHeld as held:
        if held.age_s < settings.ALERT_CLAIM_STALE_S:
            raise
        notification_services.fail_abandoned_claim(held)
        return
    if claim is None:
        return
    release_pooled_connections()  # the push is the long wait: let other greenlets query meanwhile
    try:
        with tracing.span("alert push", **trace_attributes):  # FCM's HTTP call is its child
            provider_message_id = sender.send(message)
    except PermanentPushError as error:
        notification_services.record_failed(claim, error=str(error))
        metrics.PUSHES.labels("rejected_token" if error.retire_token else "rejected").inc()
        if error.retire_token:
            announce_token_retired(vehicle, reason=str(error))
        return
    except UnknownOutcomePushError as error:
        notification_services.record_failed(claim, error=f"{Notification.DELIVERY_UNKNOWN}: {error}")
        metrics.PUSHES.labels("delivery_unknown").inc()
        return
    except Exception as error:
        notification_services.release_for_retry(claim, error=f"{type(error).__name__}: {error}")
        metrics.PUSHES.labels("retry").inc()
        raise
    with tracing.span("alert record", **trace_attributes):
        notification_services.record_sent(claim, provider_message_id=provider_message_id)
    metrics.PUSHES.labels("sent").inc()
    metrics.DETECTED_TO_PUSH_SECONDS.observe((timezone.now() - detection.detected_at).total_seconds())


def announce_token_retired(vehicle: Vehicle, *, reason: str) -> None:
    """Tell the owner of vehicles_db that this token is dead; the alert role does not write there.

    Best effort: if the announcement is lost, the next push to the token fails and
    announces it again.
    """
    event = FcmTokenRetiredEvent(
        event_id=str(uuid.uuid4()),
        vehicle_id=vehicle.pk,
        fcm_token=vehicle.fcm_token,
        reason=reason[:500],
        occurred_at=timezone.now().isoformat(),
    )
    try:
        process_publisher(MQTT_CLIENT_PREFIX).publish(TOPIC_FCM_TOKEN_RETIRED, event.to_json())
    except MqttPublishError as error:
        logger.warning("token retirement not announced: %s", error, extra={"vehicle_id": vehicle.pk})
        return
    log_transition(logger, "fcm token retirement announced", vehicle_id=vehicle.pk)
