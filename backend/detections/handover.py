"""The pipeline's hand-overs, in one place: every path that sends a detection on (ingest,
the sweeper, the admin) goes through these, so each records what the sweeper watches.

A hand-over publishes the task (confirmed by the broker) and then records when it did;
the stale-work sweeper re-dispatches any detection whose hand-over left no result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager

from backend.common import tracing
from backend.common.events_log import log_transition
from backend.detections import services as detection_services
from backend.detections.models import Detection
from backend.detections.selectors import detection_by_id
from backend.messaging.dispatch import (
    AlertHandover,
    OcrHandover,
    dispatch_alert,
    dispatch_alert_many,
    dispatch_ocr,
    dispatch_ocr_many,
)
from backend.notifications import services as notification_services
from backend.notifications.models import Notification

logger = logging.getLogger(__name__)


class ResendRefused(Exception):
    """The alert may already have reached the owner; resending needs the operator's word."""


def hand_to_ocr(detection: Detection) -> None:
    """Publish the OCR task (confirmed by the broker), then record that it was handed over."""
    dispatch_ocr(
        detection_id=detection.pk,
        event_id=detection.event_id,
        detected_speed=detection.detected_speed,
        speed_limit=detection.speed_limit,
    )
    detection_services.mark_ocr_dispatched(detection)


def hand_many_to_ocr(detections: Sequence[Detection]) -> None:
    """hand_to_ocr for a batch: every task published, the broker's confirms awaited once,
    then the hand-overs recorded in one update. Each task carries its detection's trace."""
    if not detections:
        return
    dispatch_ocr_many(
        [
            OcrHandover(
                detection_id=detection.pk,
                event_id=detection.event_id,
                detected_speed=detection.detected_speed,
                speed_limit=detection.speed_limit,
                traceparent=detection.traceparent,
            )
            for detection in detections
        ]
    )
    detection_services.mark_ocr_dispatched_many(detections)


def hand_to_alert(detection: Detection) -> None:
    """Publish the alert task (confirmed by the broker), then record that it was handed over."""
    dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    detection_services.mark_alert_dispatched(detection.pk)


def hand_many_to_alert(handovers: Sequence[tuple[Detection, str | None]]) -> None:
    """hand_to_alert for a batch of (detection, the traceparent its task carries on): every
    task published, the broker's confirms awaited once, the hand-overs recorded at once."""
    if not handovers:
        return
    dispatch_alert_many(
        [
            AlertHandover(detection_id=detection.pk, event_id=detection.event_id, traceparent=traceparent)
            for detection, traceparent in handovers
        ]
    )
    detection_services.mark_alerts_dispatched([detection.pk for detection, _ in handovers])


def linked_to_its_trace(name: str, detection: Detection) -> AbstractContextManager:
    """A span for sending a detection on again (a sweep, a resend): it belongs to the
    trace of whoever does it, with a link to the detection's own trace."""
    return tracing.span(
        name, links=tracing.links_to(detection.traceparent), event_id=detection.event_id, detection_id=detection.pk
    )


def resend_alert(notification: Notification, *, confirm_delivery_unknown: bool = False) -> bool:
    """Send a failed violation alert again (an operator asked). False: nothing to resend.

    The sweeper's watch is reopened first, so a resend that is lost (its task expired in
    the queue, say) is found and re-dispatched like any other. A "delivery unknown"
    failure may already be on the owner's phone: it is refused with ResendRefused unless
    the operator confirms a possible second push.
    """
    if notification.delivery_unknown and not confirm_delivery_unknown:
        raise ResendRefused(f"notification {notification.pk}: {notification.error_message}")
    detection = detection_by_id(notification.detection_id)
    if detection is None or not notification_services.reopen_failed(notification):
        return False
    detection_services.reopen_alert_watch(detection.pk)
    with linked_to_its_trace("operator resend", detection):
        hand_to_alert(detection)
    log_transition(
        logger,
        "alert resend requested",
        event_id=detection.event_id,
        detection_id=detection.pk,
        notification_id=notification.pk,
        confirmed_delivery_unknown=confirm_delivery_unknown,
    )
    return True
