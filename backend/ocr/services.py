"""The OCR role's work on one detection: verify evidence, read, match, complete, announce."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from backend.common import tracing
from backend.common.events_log import log_transition
from backend.contracts.events import TOPIC_DETECTIONS_COMPLETED, DetectionCompletedEvent
from backend.contracts.plates import normalise_plate
from backend.detections import services as detection_services
from backend.detections.models import Detection
from backend.messaging.mqtt import process_publisher
from backend.ocr import metrics
from backend.ocr.evidence import fetch_evidence
from backend.ocr.matching import VehicleMatch, match_vehicle
from backend.ocr.readers import PlateRead, PlateReader

logger = logging.getLogger(__name__)
MQTT_CLIENT_PREFIX = "speedcam-ocr"


class DetectionNotFound(Exception):
    pass


def process_detection(detection_id: int, *, reader: PlateReader) -> Detection | None:
    """Run OCR for one detection. Idempotent under redelivery.

    Raises EvidenceError (permanent) or a transient error (to be retried).
    Returns None when the detection had already failed for good.
    """
    detection = detection_services.start_processing(detection_id)
    if detection is None:
        raise DetectionNotFound(f"detection {detection_id} does not exist")
    if detection.status == Detection.Status.FAILED:
        log_transition(
            logger, "ocr skipped: detection already failed", event_id=detection.event_id, detection_id=detection_id
        )
        return None
    trace_attributes: dict[str, Any] = {"event_id": detection.event_id, "detection_id": detection_id}
    if detection.status == Detection.Status.PROCESSING:
        with tracing.span("ocr download", **trace_attributes):
            image = fetch_evidence(detection.image_gcs_uri, detection.image_sha256)
        with tracing.span("ocr read", **trace_attributes) as span:
            read = reader.read(image, plate_bbox=detection.plate_bbox)
            span.set_attribute("speedcam.confidence", read.confidence or 0.0)
        with tracing.span("ocr match", **trace_attributes) as span:
            verdict = judge_read(read)
            span.set_attribute("speedcam.outcome", verdict.outcome)
        with tracing.span("ocr record", **trace_attributes):
            detection = detection_services.complete_detection(
                detection,
                plate=verdict.plate,
                confidence=read.confidence if verdict.plate else None,
                vehicle_id=verdict.match.vehicle_id,
                plate_match=verdict.match.kind,
                review_reason=verdict.review_reason,
                bbox=read.bbox,
            )
        metrics.READS.labels(verdict.outcome).inc()
        if verdict.review_reason:
            metrics.REVIEWS.labels(verdict.outcome).inc()
            tracing.record("detection held for review", reason=verdict.review_reason, **trace_attributes)
        metrics.DETECTED_TO_READ_SECONDS.observe((timezone.now() - detection.detected_at).total_seconds())
    # Completed now or by an earlier delivery whose announcement may have been lost:
    # announce (again); main's dispatch and the alert claim make a repeat harmless.
    announce_completed(detection)
    return detection


@dataclass(frozen=True)
class Verdict:
    plate: str | None
    match: VehicleMatch
    review_reason: str | None  # None: the owner may be notified without a person looking

    @property
    def outcome(self) -> str:
        """The read's result as the metrics count it."""
        if self.match.kind:
            return str(self.match.kind)
        if self.match.ambiguous:
            return "ambiguous"
        if self.match.refused:
            return "near_miss"
        return "unmatched" if self.plate else "no_plate"


def judge_read(read: PlateRead) -> Verdict:
    """What the worker makes of a read: the plate, the vehicle, and whether a person must
    look first. `manage.py read_plate --json` shows exactly this."""
    plate = normalise_plate(read.text)
    match = match_vehicle(plate) if plate else VehicleMatch(None, None)
    return Verdict(plate, match, review_reason(plate, read.confidence, match))


def review_reason(plate: str | None, confidence: float | None, match: VehicleMatch) -> str | None:
    """Why a person must look at this read before anyone is notified, or None.

    The confidence rule comes first: a doubtful read that happens to be another
    registered plate exactly must not reach that plate's owner.
    """
    if plate is None:
        return "no valid plate read"
    if confidence is None or confidence < settings.OCR_REVIEW_CONFIDENCE:
        shown = f"{confidence:.2f}" if confidence is not None else "none"
        return f"low confidence {shown} < {settings.OCR_REVIEW_CONFIDENCE:.2f}"
    if match.ambiguous:
        return f"ambiguous match: {', '.join(match.candidates)}"
    if match.refused:
        return f"near registered {', '.join(match.candidates)}: {match.refused}"
    return None


def announce_completed(detection: Detection) -> None:
    event = DetectionCompletedEvent(
        event_id=detection.event_id,
        detection_id=detection.pk,
        plate=detection.ocr_result,
        confidence=detection.ocr_confidence,
        vehicle_id=detection.vehicle_id,
        occurred_at=timezone.now().isoformat(),
        traceparent=tracing.current_traceparent(),
    )
    process_publisher(MQTT_CLIENT_PREFIX).publish(TOPIC_DETECTIONS_COMPLETED, event.to_json())
    log_transition(logger, "detection completed announced", event_id=detection.event_id, detection_id=detection.pk)
