"""The OCR role's work on one detection: verify evidence, read, match, complete, announce."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from backend.common.events_log import log_transition
from backend.contracts.events import TOPIC_DETECTIONS_COMPLETED, DetectionCompletedEvent
from backend.detections import services as detection_services
from backend.detections.models import Detection
from backend.messaging.mqtt import process_publisher
from backend.ocr import metrics
from backend.ocr.evidence import fetch_evidence
from backend.ocr.matching import VehicleMatch, match_vehicle
from backend.ocr.plates import normalise_plate
from backend.ocr.readers import PlateReader

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
    if detection.status == Detection.Status.PROCESSING:
        image = fetch_evidence(detection.image_gcs_uri, detection.image_sha256)
        read = reader.read(image, plate_bbox=detection.plate_bbox)
        plate = normalise_plate(read.text)
        match = match_vehicle(plate) if plate else VehicleMatch(None, None)
        detection = detection_services.complete_detection(
            detection,
            plate=plate,
            confidence=read.confidence if plate else None,
            vehicle_id=match.vehicle_id,
            plate_match=match.kind,
            review_reason=review_reason(plate, read.confidence, match),
        )
        metrics.READS.labels(
            match.kind or ("ambiguous" if match.ambiguous else "unmatched" if plate else "no_plate")
        ).inc()
        metrics.DETECTED_TO_READ_SECONDS.observe((timezone.now() - detection.detected_at).total_seconds())
    # Completed now or by an earlier delivery whose announcement may have been lost:
    # announce (again); main's dispatch and the alert claim make a repeat harmless.
    announce_completed(detection)
    return detection


def review_reason(plate: str | None, confidence: float | None, match: VehicleMatch) -> str | None:
    """Why a person must look at this read before anyone is notified, or None."""
    if plate is None:
        return "no valid plate read"
    if confidence is not None and confidence < settings.OCR_REVIEW_CONFIDENCE:
        return f"low confidence {confidence:.2f} < {settings.OCR_REVIEW_CONFIDENCE:.2f}"
    if match.ambiguous:
        return f"ambiguous match: {', '.join(match.candidates)}"
    return None


def announce_completed(detection: Detection) -> None:
    event = DetectionCompletedEvent(
        event_id=detection.event_id,
        detection_id=detection.pk,
        plate=detection.ocr_result,
        confidence=detection.ocr_confidence,
        vehicle_id=detection.vehicle_id,
        occurred_at=timezone.now().isoformat(),
    )
    process_publisher(MQTT_CLIENT_PREFIX).publish(TOPIC_DETECTIONS_COMPLETED, event.to_json())
    log_transition(logger, "detection completed announced", event_id=detection.event_id, detection_id=detection.pk)
