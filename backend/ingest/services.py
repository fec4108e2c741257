"""What the main role does with each MQTT event. Called by the subscriber."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from enum import StrEnum
from pathlib import PurePosixPath

from django.conf import settings
from django.utils import timezone
from opentelemetry.trace import Span

from backend.cameras.models import Camera
from backend.cameras.selectors import camera_by_id, cameras_by_id
from backend.cameras.services import note_activity, record_camera_seen
from backend.common import log_context, tracing
from backend.common.events_log import log_transition
from backend.contracts.events import (
    DetectionCompletedEvent,
    DetectionNewEvent,
    EventRejected,
    parse_camera_status,
    parse_detection_completed,
    parse_detection_new,
    parse_fcm_token_retired,
)
from backend.detections import services as detection_services
from backend.detections.handover import hand_many_to_alert, hand_many_to_ocr
from backend.detections.models import Detection
from backend.detections.selectors import detections_by_id
from backend.detections.services import NewDetection
from backend.ingest.metrics import CAMERA_REPORTED
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
    CAMERA_SEEN = "camera_seen"


def handle_detection_new(payload: bytes, camera_id: str | None) -> Outcome:
    """Record the detection `pending` and hand it to OCR exactly once.

    `camera_id` comes from the topic, which the broker lets only that camera publish
    on. Location and limit come from the camera registry. Raises EventRejected for an
    event that can never be stored.
    """
    (result,) = handle_detections_new([(payload, camera_id)])
    if isinstance(result, EventRejected):
        raise result
    return result


def handle_detections_new(messages: Sequence[tuple[bytes, str | None]]) -> list[Outcome | EventRejected]:
    """handle_detection_new for a batch of (payload, camera_id from the topic), in order.

    Each event is checked on its own: a rejected one comes back as its EventRejected and
    the others go on. The accepted ones are stored in one transaction and handed to OCR
    with one confirm round. A failure of the batch as a whole (the database or the broker
    down) raises, and nothing of it counts as done.
    """
    now = timezone.now()
    max_age = timedelta(seconds=settings.INGEST_MAX_EVENT_AGE_S)
    cameras = cameras_by_id(camera_id for _, camera_id in messages if camera_id)
    results: list[Outcome | EventRejected] = []
    accepted: list[tuple[int, NewDetection, Span]] = []
    for index, (payload, camera_id) in enumerate(messages):
        try:
            camera = _registered_camera(camera_id, cameras.get)
            event = parse_detection_new(payload, expected_bucket=settings.GCS_BUCKET_NAME, now=now, max_age=max_age)
            with log_context.bound(event_id=str(event.event_id), camera_id=camera.camera_id):
                _check_against_registry(event, camera)
        except EventRejected as rejection:
            results.append(rejection)
            continue
        results.append(Outcome.CREATED)  # settled below, once stored
        span = tracing.start_span(
            "ingest detections/new", parent=event.traceparent, event_id=str(event.event_id), camera_id=camera.camera_id
        )
        new = NewDetection(event, camera.location, camera.speed_limit, tracing.traceparent_of(span))
        accepted.append((index, new, span))
    if not accepted:
        return results
    try:
        registered = detection_services.register_detections([new for _, new, _ in accepted])
        for camera_id in {new.event.camera_id for _, new, _ in accepted}:
            note_activity(cameras[camera_id])
        to_dispatch: dict[int, Detection] = {}
        for (index, _, span), (detection, created) in zip(accepted, registered, strict=True):
            span.set_attribute("speedcam.detection_id", detection.pk)
            if detection.ocr_dispatched_at is not None or detection.pk in to_dispatch:
                results[index] = Outcome.DUPLICATE
            else:
                to_dispatch[detection.pk] = detection
                results[index] = Outcome.CREATED if created else Outcome.REDISPATCHED
        hand_many_to_ocr(list(to_dispatch.values()))  # each task carries its detection's trace
    finally:
        for _, _, span in accepted:
            span.end()
    return results


def _registered_camera(camera_id: str | None, find: Callable[[str], Camera | None] = camera_by_id) -> Camera:
    if camera_id is None:
        raise EventRejected("no_camera_in_topic", "violations are published on detections/new/<camera_id>")
    camera = find(camera_id)
    if camera is None:
        raise EventRejected("unknown_camera", f"camera {camera_id!r} is not provisioned")
    if not camera.active:
        raise EventRejected("inactive_camera", f"camera {camera_id!r} is retired")
    return camera


def _check_against_registry(event: DetectionNewEvent, camera: Camera) -> None:
    """The payload speaks for the camera whose topic it came on, about its own evidence."""
    if event.camera_id != camera.camera_id:
        raise EventRejected(
            "camera_mismatch", f"payload names camera {event.camera_id!r} on camera {camera.camera_id!r}'s topic"
        )
    object_name = PurePosixPath(event.image_object)
    if not event.image_object.startswith(f"detections/{camera.camera_id}/") or object_name.stem != str(event.event_id):
        raise EventRejected(
            "foreign_evidence",
            f"image object {event.image_object!r} is not detections/{camera.camera_id}/.../{event.event_id}.<ext>",
        )
    if event.detected_speed <= camera.speed_limit:
        raise EventRejected(
            "not_over_registered_limit",
            f"{event.detected_speed} km/h is not over camera {camera.camera_id}'s limit of {camera.speed_limit} km/h",
        )
    if event.location != camera.location or event.speed_limit != camera.speed_limit:
        logger.warning(
            "camera payload disagrees with the registry; the registry's values are used",
            extra={
                "payload_location": event.location,
                "payload_speed_limit": event.speed_limit,
                "registry_location": camera.location,
                "registry_speed_limit": camera.speed_limit,
            },
        )


def handle_detection_completed(payload: bytes, camera_id: str | None = None) -> Outcome:
    """React to a finished plate read by dispatching the alert task.

    A duplicated completion event may dispatch a second alert task; the alert
    worker's claim makes that harmless.
    """
    (result,) = handle_detections_completed([(payload, camera_id)])
    if isinstance(result, EventRejected):
        raise result
    return result


def handle_detections_completed(messages: Sequence[tuple[bytes, str | None]]) -> list[Outcome | EventRejected]:
    """handle_detection_completed for a batch, in order: each event checked on its own,
    the alert tasks of the rest published with one confirm round and recorded at once."""
    events: list[tuple[int, DetectionCompletedEvent]] = []
    results: list[Outcome | EventRejected] = []
    for index, (payload, _) in enumerate(messages):
        try:
            events.append((index, parse_detection_completed(payload)))
            results.append(Outcome.ALERT_DISPATCHED)  # settled below
        except EventRejected as rejection:
            results.append(rejection)
    found = detections_by_id(event.detection_id for _, event in events)
    handovers: list[tuple[Detection, str | None]] = []
    spans: list[Span] = []
    try:
        for index, event in events:
            detection = found.get(event.detection_id)
            if detection is None or detection.event_id != str(event.event_id):
                results[index] = EventRejected(
                    "unknown_detection", f"no detection {event.detection_id} with event_id {event.event_id}"
                )
                continue
            span = tracing.start_span(
                "ingest detections/completed",
                parent=event.traceparent,
                event_id=detection.event_id,
                detection_id=detection.pk,
            )
            spans.append(span)
            traceparent = tracing.traceparent_of(span)
            if detection.needs_review:
                # A person checks the read first; the admin's "Reviewed" action sends the alert then.
                with (
                    tracing.attached(traceparent),
                    log_context.bound(event_id=detection.event_id, detection_id=detection.pk),
                ):
                    log_transition(logger, "alert withheld: detection needs review", reason=detection.review_reason)
                results[index] = Outcome.REVIEW_REQUIRED
                continue
            handovers.append((detection, traceparent))
        hand_many_to_alert(handovers)
    finally:
        for span in spans:
            span.end()
    return results


def handle_fcm_token_retired(payload: bytes, camera_id: str | None = None) -> Outcome:
    """The alert worker found a dead token: clear it on the vehicle (main owns vehicles_db)."""
    event = parse_fcm_token_retired(payload)
    cleared = retire_fcm_token(vehicle_id=event.vehicle_id, fcm_token=event.fcm_token)
    log_transition(
        logger,
        "fcm token retired" if cleared else "fcm token retirement ignored: token already replaced",
        vehicle_id=event.vehicle_id,
        reason=event.reason,
    )
    return Outcome.TOKEN_RETIRED if cleared else Outcome.TOKEN_ALREADY_REPLACED


def handle_camera_status(payload: bytes, camera_id: str | None) -> Outcome:
    """A camera's heartbeat or last will: record when it was last heard and what it said."""
    status = parse_camera_status(payload)
    camera = _registered_camera(camera_id)
    if status.camera_id != camera.camera_id:
        raise EventRejected(
            "camera_mismatch", f"status names camera {status.camera_id!r} on camera {camera.camera_id!r}'s topic"
        )
    record_camera_seen(camera.camera_id, state=status.state, counters=status.counters or None)
    for counter, value in status.counters.items():
        CAMERA_REPORTED.labels(camera_id=camera.camera_id, counter=counter).set(value)
    if status.state == Camera.State.OFFLINE:
        log_transition(logger, "camera went offline", level=logging.WARNING, camera_id=camera.camera_id)
    return Outcome.CAMERA_SEEN
