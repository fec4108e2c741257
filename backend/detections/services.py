"""Writes to detections_db. Every status change goes through here and is logged."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone

from backend.common import tracing
from backend.common.db import update_row_if
from backend.common.events_log import log_transition
from backend.contracts.events import DetectionNewEvent
from backend.detections.counts import DETECTION_COUNTS
from backend.detections.models import Detection, RejectedEvent

logger = logging.getLogger(__name__)
DB = "detections_db"
DEADLOCK = 1213  # MariaDB: the transaction was chosen as a deadlock's victim and rolled back
Status = Detection.Status


@dataclass(frozen=True)
class NewDetection:
    """An accepted detections/new event with what the camera registry says of it."""

    event: DetectionNewEvent
    location: str
    speed_limit: float
    traceparent: str | None = None

    def fields(self) -> dict:
        event = self.event
        return {
            "camera_id": event.camera_id,
            "location": self.location,
            "detected_speed": event.detected_speed,
            "measured_speed": event.measured_speed,
            "speed_uncertainty": event.speed_uncertainty,
            "speed_tolerance": event.speed_tolerance,
            "speed_limit": self.speed_limit,
            "detected_at": event.detected_at,
            "image_gcs_uri": event.image_gcs_uri,
            "traceparent": self.traceparent,
            "image_sha256": event.image_sha256,
            "plate_bbox": list(event.plate_bbox) if event.plate_bbox else None,
            "status": Status.PENDING,
        }


def register_detection(
    event: DetectionNewEvent, *, location: str, speed_limit: float, traceparent: str | None = None
) -> tuple[Detection, bool]:
    """Create the detection `pending` for this event, or return the existing one.

    `location` and `speed_limit` are the camera registry's, not the payload's.
    Returns (detection, created). Idempotent on `event_id`, also under a race
    between two deliveries of the same event.
    """
    event_id = str(event.event_id)
    new = NewDetection(event, location, speed_limit, traceparent)
    try:
        with transaction.atomic(using=DB):
            detection, created = Detection.objects.get_or_create(event_id=event_id, defaults=new.fields())
    except IntegrityError:
        detection, created = Detection.objects.get(event_id=event_id), False
    if created:
        _log_pending(detection)
    return detection, created


def register_detections(batch: Sequence[NewDetection]) -> list[tuple[Detection, bool]]:
    """register_detection for a batch, in one transaction: one query for the events already
    stored, one insert for the rest. Returns (detection, created) per item, in order; an
    event twice in the batch is created once."""
    event_ids = [str(item.event.event_id) for item in batch]
    try:
        with transaction.atomic(using=DB):
            stored = {d.event_id: d for d in Detection.objects.filter(event_id__in=event_ids)}
            new: dict[str, Detection] = {}
            for event_id, item in zip(event_ids, batch, strict=True):
                if event_id not in stored and event_id not in new:
                    new[event_id] = Detection(event_id=event_id, **item.fields())
            # In event_id order: two consumers inserting the same events take their index
            # locks in the same order, so one waits for the other instead of deadlocking.
            Detection.objects.bulk_create(sorted(new.values(), key=lambda detection: detection.event_id))
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and error.args[:1] != (DEADLOCK,):
            raise
        # Another delivery of one of these events (a second AMQP consumer) stored it first,
        # or is storing it now: each on its own then, idempotently.
        return [
            register_detection(
                item.event, location=item.location, speed_limit=item.speed_limit, traceparent=item.traceparent
            )
            for item in batch
        ]
    if any(detection.pk is None for detection in new.values()):  # a server that cannot return the new ids
        new = {d.event_id: d for d in Detection.objects.filter(event_id__in=list(new))}
    for detection in new.values():
        with tracing.attached(detection.traceparent):  # the line belongs to its detection's trace
            _log_pending(detection)
    stored.update(new)
    seen: set[str] = set()
    results = []
    for event_id in event_ids:
        results.append((stored[event_id], event_id in new and event_id not in seen))
        seen.add(event_id)
    return results


def _log_pending(detection: Detection) -> None:
    log_transition(
        logger,
        "detection pending",
        event_id=detection.event_id,
        detection_id=detection.pk,
        status=Status.PENDING,
        camera_id=detection.camera_id,
        detected_speed=detection.detected_speed,
        speed_limit=detection.speed_limit,
    )


def reset_for_ocr(detection: Detection) -> Detection:
    """Send a detection through OCR again (an operator asked): back to pending, result cleared."""
    Detection.objects.filter(pk=detection.pk).update(
        status=Status.PENDING,
        ocr_result=None,
        ocr_confidence=None,
        vehicle_id=None,
        processed_at=None,
        error_message=None,
        needs_review=False,
        review_reason=None,
        plate_match=None,
        ocr_dispatched_at=None,
        alert_dispatched_at=None,
        alert_settled_at=None,
        updated_at=timezone.now(),
    )
    detection.refresh_from_db()
    log_transition(
        logger,
        "detection pending (re-run requested)",
        event_id=detection.event_id,
        detection_id=detection.pk,
        status=Status.PENDING,
    )
    return detection


def mark_ocr_dispatched(detection: Detection) -> None:
    mark_ocr_dispatched_many([detection])


def mark_ocr_dispatched_many(detections: Sequence[Detection]) -> None:
    now = timezone.now()
    for detection in detections:
        detection.ocr_dispatched_at = now
    Detection.objects.filter(pk__in=[detection.pk for detection in detections]).update(ocr_dispatched_at=now)


def start_processing(detection_id: int) -> Detection | None:
    """Move a detection to `processing` unless it already reached a final state.

    Returns the detection (its status tells the caller whether there is work to do),
    or None if it does not exist.
    """
    detection, updated = update_row_if(
        Detection,
        detection_id,
        lambda current: current.status in (Status.PENDING, Status.PROCESSING),
        status=Status.PROCESSING,
        updated_at=timezone.now(),
    )
    if updated and detection is not None:
        log_transition(
            logger,
            "detection processing",
            event_id=detection.event_id,
            detection_id=detection_id,
            status=Status.PROCESSING,
        )
    return detection


def complete_detection(
    detection: Detection,
    *,
    plate: str | None,
    confidence: float | None,
    vehicle_id: int | None,
    plate_match: str | None = None,
    review_reason: str | None = None,
    bbox: tuple[int, int, int, int] | None = None,
) -> Detection:
    """Record the plate read. A `review_reason` flags the detection for a person (and holds
    back the push); a missing plate always does."""
    if plate is None and review_reason is None:
        review_reason = "no valid plate read"
    detection.ocr_result = plate
    detection.ocr_confidence = confidence
    detection.ocr_bbox = list(bbox) if bbox else None
    detection.vehicle_id = vehicle_id
    detection.plate_match = plate_match
    detection.processed_at = timezone.now()
    detection.image_verified_at = detection.processed_at  # a read follows a verified download only
    detection.status = Status.COMPLETED
    detection.error_message = None
    detection.needs_review = review_reason is not None
    detection.review_reason = review_reason[:255] if review_reason else None
    update_row_if(
        Detection,
        detection.pk,
        lambda current: current.status != Status.FAILED,
        ocr_result=plate,
        ocr_confidence=confidence,
        ocr_bbox=detection.ocr_bbox,
        vehicle_id=vehicle_id,
        plate_match=plate_match,
        processed_at=detection.processed_at,
        image_verified_at=detection.processed_at,
        status=Status.COMPLETED,
        error_message=None,
        needs_review=detection.needs_review,
        review_reason=detection.review_reason,
        updated_at=detection.processed_at,
    )
    log_transition(
        logger,
        "detection completed",
        event_id=detection.event_id,
        detection_id=detection.pk,
        status=Status.COMPLETED,
        plate=plate,
        confidence=confidence,
        vehicle_id=vehicle_id,
        plate_match=plate_match,
        review_reason=detection.review_reason,
    )
    return detection


def fail_detection(detection_id: int, *, reason: str) -> None:
    tracing.record("detection failed", detection_id=detection_id, reason=reason[:500])
    now = timezone.now()
    update_row_if(
        Detection,
        detection_id,
        lambda current: current.status != Status.COMPLETED,
        status=Status.FAILED,
        error_message=reason[:2000],
        processed_at=now,
        updated_at=now,
    )
    # The task or sweep that failed it bound the detection's event_id to the log context.
    log_transition(
        logger,
        "detection failed",
        detection_id=detection_id,
        level=logging.WARNING,
        status=Status.FAILED,
        reason=reason,
    )


def mark_alert_dispatched(detection_id: int) -> None:
    mark_alerts_dispatched([detection_id])


def mark_alerts_dispatched(detection_ids: Sequence[int]) -> None:
    Detection.objects.filter(pk__in=detection_ids).update(alert_dispatched_at=timezone.now())


def reopen_alert_watch(detection_id: int) -> None:
    """An alert is being sent again: the sweeper watches this detection afresh."""
    Detection.objects.filter(pk=detection_id).update(alert_settled_at=None, sweep_count=0, updated_at=timezone.now())


def count_redispatch(detection: Detection) -> None:
    """The sweeper is about to hand this detection on again: count it, so it can give up."""
    detection.sweep_count += 1
    Detection.objects.filter(pk=detection.pk).update(sweep_count=models.F("sweep_count") + 1)


def mark_alert_settled(detection_ids: list[int]) -> int:
    """A final notification exists for these detections: the sweeper stops looking at them."""
    if not detection_ids:
        return 0
    return Detection.objects.filter(pk__in=detection_ids, alert_settled_at__isnull=True).update(
        alert_settled_at=timezone.now()
    )


def purge_personal_data(detection_ids: list[int]) -> int:
    """Retention: drop the plate, the vehicle link and the evidence location; keep the
    camera, speeds, times and status for statistics."""
    if not detection_ids:
        return 0
    now = timezone.now()
    return Detection.objects.filter(pk__in=detection_ids, personal_data_purged_at__isnull=True).update(
        ocr_result=None, vehicle_id=None, image_gcs_uri="", personal_data_purged_at=now, updated_at=now
    )


def record_review(detection_id: int, *, plate: str, vehicle_id: int | None, reviewer: str) -> Detection | None:
    """A person confirmed or corrected the plate of a detection waiting for review.

    The update is conditional on the detection still waiting, so two reviewers (or a
    double click) record one review: the second gets None.
    """
    now = timezone.now()
    detection, updated = update_row_if(
        Detection,
        detection_id,
        lambda current: current.needs_review and current.status == Status.COMPLETED,
        needs_review=False,
        review_reason=None,
        reviewed_plate=plate,
        reviewed_by=reviewer[:150],
        reviewed_at=now,
        vehicle_id=vehicle_id,
        plate_match="reviewed" if vehicle_id else None,
        updated_at=now,
    )
    if not updated or detection is None:
        return None
    log_transition(
        logger,
        "detection reviewed",
        event_id=detection.event_id,
        detection_id=detection_id,
        read=detection.ocr_result,
        plate=plate,
        corrected=plate != detection.ocr_result,
        reviewer=reviewer,
        vehicle_id=vehicle_id,
    )
    return detection


REJECTED_PAYLOAD_LIMIT = 16 * 1024


def record_rejected_event(
    *, topic: str, camera_id: str | None, reason: str, detail: str, payload: bytes, attempts: int = 1
) -> RejectedEvent:
    """Park a message ingest cannot store, with why; it is acknowledged after this commits."""
    rejected = RejectedEvent.objects.create(
        topic=topic.replace("\x00", "")[:255],
        camera_id=camera_id,
        reason=reason[:100],
        detail=detail.replace("\x00", "")[:4000],
        payload=payload[:REJECTED_PAYLOAD_LIMIT],
        payload_size=len(payload),
        payload_truncated=len(payload) > REJECTED_PAYLOAD_LIMIT,
        attempts=attempts,
    )
    return rejected


def record_replay(rejected: RejectedEvent, *, outcome: str) -> None:
    rejected.replayed_at = timezone.now()
    rejected.replay_outcome = outcome[:255]
    RejectedEvent.objects.filter(pk=rejected.pk).update(
        replayed_at=rejected.replayed_at, replay_outcome=rejected.replay_outcome
    )


def refresh_hourly_counts() -> int:
    """Take the detections created or changed since the last refresh into the hourly
    counts; returns how many hours were recounted."""
    return DETECTION_COUNTS.refresh()
