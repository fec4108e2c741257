"""The MQTT event contract shared by every role (edge, ingest, ocr).

This module is the single definition of the `detections/new` and
`detections/completed` payloads. It deliberately imports nothing from Django so
that the Raspberry Pi edge can use it unchanged.

Every consumer calls :func:`parse_detection_new` / :func:`parse_detection_completed`;
both raise :class:`EventRejected` carrying a short machine-readable ``reason``
(used as a metric label) and a human-readable ``detail``.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# Each camera publishes on its own topic, `detections/new/<camera_id>`, and the broker lets it
# publish nowhere else: the topic, not the payload, says which camera spoke.
TOPIC_DETECTIONS_NEW = "detections/new"
TOPIC_DETECTIONS_COMPLETED = "detections/completed"
TOPIC_FCM_TOKEN_RETIRED = "vehicles/fcm_token_retired"
# `cameras/<camera_id>/status`: heartbeats and the last will of each camera.
TOPIC_CAMERA_STATUS = "cameras/status"
# RabbitMQ's MQTT plugin publishes into amq.topic with "/" turned into ".".
ROUTING_KEY_DETECTIONS_NEW = "detections.new"
ROUTING_KEY_DETECTIONS_COMPLETED = "detections.completed"

MAX_PAYLOAD_BYTES = 16 * 1024
# The broker refuses any MQTT packet larger than this (rabbitmq.conf), before it reaches us.
MAX_MQTT_PACKET_BYTES = 64 * 1024
# An event stamped later than this ahead of the backend's clock is refused: a camera clock
# that runs ahead would otherwise date violations in the future.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
MAX_SPEED_KMH = 400.0
MAX_LIMIT_KMH = 200.0
MAX_PLATE_LENGTH = 20
MAX_CAMERA_ID_LENGTH = 50
MAX_LOCATION_LENGTH = 255
MAX_GCS_URI_LENGTH = 500

# Letters, digits, '-' and '_': a camera id is part of MQTT topics, AMQP routing keys
# (where '.' separates words) and evidence object names.
CAMERA_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# W3C Trace Context: version-traceid-parentid-flags, lower-case hex.
TRACEPARENT_PATTERN = re.compile(r"^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
# Bucket names per GCS naming rules; object names: any UTF-8 except control chars.
_GCS_URI_PATTERN = re.compile(r"^gs://(?P<bucket>[a-z0-9][a-z0-9._-]{1,220}[a-z0-9])/(?P<object>[^\x00-\x1f\x7f]+)$")


class EventRejected(ValueError):
    """A message that does not satisfy the contract. Never retried."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_gcs_uri(uri: str) -> tuple[str, str]:
    """Split ``gs://bucket/object`` into (bucket, object) or raise ValueError."""
    match = _GCS_URI_PATTERN.match(uri)
    if not match or ".." in match["object"].split("/"):
        raise ValueError(f"not a gs://<bucket>/<object> URI: {uri[:80]!r}")
    return match["bucket"], match["object"]


def _iso_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string with a UTC offset")
    return value


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a UTC offset, e.g. 2026-11-23T10:02:03+09:00")
    try:
        # Normalised to UTC here, so no consumer meets a local time whose UTC value
        # does not exist (0001-01-01T00:00+09:00 is before year 1 in UTC).
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("timestamp is out of range in UTC") from exc


# An ISO 8601 string with an offset, normalised to UTC; a bare number or a naive time is refused.
OffsetDateTime = Annotated[datetime, BeforeValidator(_iso_string), AfterValidator(_require_offset)]


def _traceparent_or_none(value: Any) -> Any:
    # Tracing is optional: a malformed traceparent is dropped, never a reason to refuse
    # a violation.
    return value if isinstance(value, str) and TRACEPARENT_PATTERN.match(value) else None


# (+) The W3C traceparent of the span that published the event: MQTT 3.1.1 has no headers,
# so the trace crosses the broker in the payload. Optional.
Traceparent = Annotated[str | None, BeforeValidator(_traceparent_or_none)]


def is_camera_id(value: str) -> bool:
    return bool(CAMERA_ID_PATTERN.match(value))


def detections_new_topic(camera_id: str) -> str:
    """The one topic a camera may publish its violations on."""
    return f"{TOPIC_DETECTIONS_NEW}/{camera_id}"


def camera_status_topic(camera_id: str) -> str:
    return f"cameras/{camera_id}/status"


def topic_kind(topic: str) -> tuple[str, str | None]:
    """(the contract topic, the camera id in it): `detections/new/cam-01` is
    (TOPIC_DETECTIONS_NEW, "cam-01"); a backend topic is (topic, None). An unknown or
    malformed topic comes back as it is, with no camera."""
    parts = topic.split("/")
    if len(parts) == 3 and f"{parts[0]}/{parts[1]}" == TOPIC_DETECTIONS_NEW and is_camera_id(parts[2]):
        return TOPIC_DETECTIONS_NEW, parts[2]
    if len(parts) == 3 and parts[0] == "cameras" and parts[2] == "status" and is_camera_id(parts[1]):
        return TOPIC_CAMERA_STATUS, parts[1]
    return topic, None


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    event_id: uuid.UUID

    @field_validator("event_id", mode="before")
    @classmethod
    def _event_id_is_canonical_string(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("event_id must be a UUID string")
        return value

    def to_json(self) -> str:
        # An event without a trace says nothing about one: a backend from before tracing
        # (which refuses unknown fields) still takes it.
        untraced = {"traceparent"} if getattr(self, "traceparent", "") is None else None
        return self.model_dump_json(exclude=untraced)


class DetectionNewEvent(_Event):
    """`detections/new`: published by the edge after the snapshot is in GCS."""

    camera_id: str = Field(min_length=1, max_length=MAX_CAMERA_ID_LENGTH)
    location: str = Field(min_length=1, max_length=MAX_LOCATION_LENGTH)
    detected_speed: float = Field(gt=0, le=MAX_SPEED_KMH, allow_inf_nan=False)
    speed_limit: float = Field(gt=0, le=MAX_LIMIT_KMH, allow_inf_nan=False)
    detected_at: OffsetDateTime
    image_gcs_uri: str = Field(max_length=MAX_GCS_URI_LENGTH)
    image_sha256: str
    # (+) Where the edge found the licence plate in the snapshot: [x, y, width, height] in
    # pixels. Optional; the OCR worker reads this region first.
    plate_bbox: tuple[int, int, int, int] | None = None
    # (+) The measurement behind detected_speed, in km/h: detected_speed is what the camera
    # stands behind, measured_speed - speed_uncertainty - speed_tolerance rounded down.
    # Optional; the edge sends all three.
    measured_speed: float | None = Field(default=None, gt=0, le=MAX_SPEED_KMH, allow_inf_nan=False)
    speed_uncertainty: float | None = Field(default=None, ge=0, le=MAX_SPEED_KMH, allow_inf_nan=False)
    speed_tolerance: float | None = Field(default=None, ge=0, le=MAX_SPEED_KMH, allow_inf_nan=False)
    traceparent: Traceparent = None

    @field_validator("plate_bbox", mode="before")
    @classmethod
    def _box_of_whole_pixels(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, (list, tuple)) or len(value) != 4:
            raise ValueError("plate_bbox must be [x, y, width, height]")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise ValueError("plate_bbox must hold whole pixel numbers")
        x, y, width, height = value
        if x < 0 or y < 0 or width <= 0 or height <= 0 or max(value) > 20_000:
            raise ValueError("plate_bbox must have x, y >= 0 and a positive width and height")
        return value

    @field_validator(
        "detected_speed", "speed_limit", "measured_speed", "speed_uncertainty", "speed_tolerance", mode="before"
    )
    @classmethod
    def _number_not_bool_or_string(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a JSON number (km/h)")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be finite")
        return value

    @field_validator("camera_id")
    @classmethod
    def _camera_id_charset(cls, value: str) -> str:
        if not CAMERA_ID_PATTERN.match(value):
            raise ValueError("camera_id may contain letters, digits, '-' and '_' only (at most 50)")
        return value

    @field_validator("image_gcs_uri")
    @classmethod
    def _gcs_uri_shape(cls, value: str) -> str:
        parse_gcs_uri(value)
        return value

    @field_validator("image_sha256")
    @classmethod
    def _sha256_hex(cls, value: str) -> str:
        if not _SHA256_PATTERN.match(value):
            raise ValueError("image_sha256 must be 64 lowercase hex characters")
        return value

    @model_validator(mode="after")
    def _over_the_limit(self) -> DetectionNewEvent:
        if self.detected_speed <= self.speed_limit:
            raise PydanticCustomError(
                "not_over_limit", "detected_speed must exceed speed_limit (only violations are published)"
            )
        if self.measured_speed is not None:
            deductions = (self.speed_uncertainty or 0.0) + (self.speed_tolerance or 0.0)
            if self.detected_speed > self.measured_speed - deductions + 0.05:  # 0.05: rounding to 0.1 km/h
                raise PydanticCustomError(
                    "detected_above_measured",
                    "detected_speed is the measured speed after deductions: it cannot exceed "
                    "measured_speed - speed_uncertainty - speed_tolerance",
                )
        return self

    def to_json(self) -> str:
        # Optional fields are left out rather than sent as null: the payload stays the
        # original design's unless the edge has something to add.
        optional = ("plate_bbox", "measured_speed", "speed_uncertainty", "speed_tolerance", "traceparent")
        return self.model_dump_json(exclude={name for name in optional if getattr(self, name) is None})

    @property
    def image_bucket(self) -> str:
        return parse_gcs_uri(self.image_gcs_uri)[0]

    @property
    def image_object(self) -> str:
        return parse_gcs_uri(self.image_gcs_uri)[1]


class DetectionCompletedEvent(_Event):
    """`detections/completed`: published by the OCR worker once the result is committed."""

    detection_id: int = Field(gt=0, strict=True)
    plate: str | None = Field(default=None, max_length=MAX_PLATE_LENGTH)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    vehicle_id: int | None = Field(default=None, gt=0, strict=True)
    occurred_at: OffsetDateTime
    traceparent: Traceparent = None


class FcmTokenRetiredEvent(_Event):
    """`vehicles/fcm_token_retired`: the alert worker found a token FCM will never accept
    (unregistered, invalid, other sender). The owner of vehicles_db clears it."""

    vehicle_id: int = Field(gt=0, strict=True)
    fcm_token: str = Field(min_length=1, max_length=255)
    reason: str = Field(min_length=1, max_length=500)
    occurred_at: OffsetDateTime


class CameraStatusEvent(BaseModel):
    """`cameras/<camera_id>/status`: the edge's heartbeat, and its last will ("offline")."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    camera_id: str = Field(min_length=1, max_length=MAX_CAMERA_ID_LENGTH)
    state: Literal["online", "offline"]
    sent_at: OffsetDateTime | None = None
    # What the unit saw since it started: measured, published, unmeasurable by reason...
    counters: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, max_length=50
    )

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def _decode(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EventRejected("too_large", f"payload is {len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventRejected("not_utf8", str(exc)) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventRejected("not_json", str(exc)) from exc
    except RecursionError as exc:
        raise EventRejected("not_json", "nested too deeply") from exc
    if not isinstance(data, dict):
        raise EventRejected("not_object", f"expected a JSON object, got {type(data).__name__}")
    return data


def _reason_from(error: ValidationError) -> EventRejected:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "payload"
    kind = first["type"]
    if not first["loc"]:
        reason = kind  # a rule across fields, e.g. not_over_limit
    elif kind == "missing":
        reason = f"missing_{field}"
    elif kind == "extra_forbidden":
        reason = "unknown_field"
    else:
        reason = f"invalid_{field}"
    details = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'payload'}: {err['msg']}" for err in error.errors())
    return EventRejected(reason, details)


EventT = TypeVar("EventT", bound=BaseModel)


def _parse(model: type[EventT], payload: bytes) -> EventT:
    data = _decode(payload)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _reason_from(exc) from exc


def parse_detection_new(
    payload: bytes,
    *,
    expected_bucket: str | None = None,
    now: datetime | None = None,
    max_age: timedelta | None = None,
) -> DetectionNewEvent:
    """Validate a raw `detections/new` payload; raise EventRejected with the reason.

    With `now`, `detected_at` must lie between `now - max_age` (when given) and
    `now + MAX_CLOCK_AHEAD`.
    """
    event = _parse(DetectionNewEvent, payload)
    if expected_bucket is not None and event.image_bucket != expected_bucket:
        raise EventRejected(
            "invalid_image_gcs_uri",
            f"image_gcs_uri: bucket {event.image_bucket!r} is not the configured bucket {expected_bucket!r}",
        )
    if now is not None:
        if event.detected_at > now + MAX_CLOCK_AHEAD:
            raise EventRejected(
                "detected_at_in_future",
                f"detected_at {event.detected_at.isoformat()} is more than {MAX_CLOCK_AHEAD} "
                f"ahead of {now.isoformat()}",
            )
        if max_age is not None and event.detected_at < now - max_age:
            raise EventRejected(
                "detected_at_too_old",
                f"detected_at {event.detected_at.isoformat()} is older than the accepted {max_age}",
            )
    return event


def parse_detection_completed(payload: bytes) -> DetectionCompletedEvent:
    """Validate a raw `detections/completed` payload; raise EventRejected with the reason."""
    return _parse(DetectionCompletedEvent, payload)


def parse_fcm_token_retired(payload: bytes) -> FcmTokenRetiredEvent:
    """Validate a raw `vehicles/fcm_token_retired` payload; raise EventRejected with the reason."""
    return _parse(FcmTokenRetiredEvent, payload)


def parse_camera_status(payload: bytes) -> CameraStatusEvent:
    """Validate a raw `cameras/<id>/status` payload; raise EventRejected with the reason."""
    return _parse(CameraStatusEvent, payload)
