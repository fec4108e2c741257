"""The event contract, field by field (pure logic: no services)."""

from __future__ import annotations

import json

import pytest

from backend.contracts.events import (
    MAX_PAYLOAD_BYTES,
    EventRejected,
    parse_detection_completed,
    parse_detection_new,
    parse_fcm_token_retired,
)
from tests.support.events import TEST_BUCKET, encode, new_event


def test_valid_event_parses_with_types_and_offset() -> None:
    event = parse_detection_new(encode(new_event()), expected_bucket=TEST_BUCKET)
    assert event.detected_speed == 87.5
    assert event.detected_at.utcoffset().total_seconds() == 9 * 3600
    assert event.image_bucket == TEST_BUCKET
    assert event.location == "서울 강남구 테헤란로 123"


def test_the_edge_may_say_where_the_plate_is() -> None:
    event = parse_detection_new(encode(new_event(plate_bbox=[410, 520, 96, 22])), expected_bucket=TEST_BUCKET)
    assert event.plate_bbox == (410, 520, 96, 22)
    assert parse_detection_new(encode(new_event()), expected_bucket=TEST_BUCKET).plate_bbox is None


def test_integer_speeds_are_accepted() -> None:
    event = parse_detection_new(encode(new_event(detected_speed=90, speed_limit=60)))
    assert event.detected_speed == 90.0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe not utf-8", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "too_large"),
    ],
)
def test_undecodable_payloads_are_rejected(payload: bytes, reason: str) -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_detection_new(payload)
    assert rejected.value.reason == reason


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"event_id": "not-a-uuid"}, "invalid_event_id"),
        ({"event_id": 12345}, "invalid_event_id"),
        ({"camera_id": ""}, "invalid_camera_id"),
        ({"camera_id": "cam 01; drop"}, "invalid_camera_id"),
        ({"camera_id": "c" * 51}, "invalid_camera_id"),
        ({"location": "x" * 256}, "invalid_location"),
        ({"detected_speed": "87.5"}, "invalid_detected_speed"),
        ({"detected_speed": True}, "invalid_detected_speed"),
        ({"detected_speed": -5}, "invalid_detected_speed"),
        ({"detected_speed": 1000}, "invalid_detected_speed"),
        ({"speed_limit": 0}, "invalid_speed_limit"),
        ({"detected_at": "2026-11-23T10:02:03"}, "invalid_detected_at"),
        ({"detected_at": "yesterday"}, "invalid_detected_at"),
        ({"detected_at": 1763859723}, "invalid_detected_at"),
        ({"image_gcs_uri": "https://example.com/x.jpg"}, "invalid_image_gcs_uri"),
        ({"image_gcs_uri": "gs://bucket-only"}, "invalid_image_gcs_uri"),
        ({"image_gcs_uri": f"gs://{TEST_BUCKET}/../etc/passwd"}, "invalid_image_gcs_uri"),
        ({"image_sha256": "xyz"}, "invalid_image_sha256"),
        ({"image_sha256": "A" * 64}, "invalid_image_sha256"),
        ({"unexpected": 1}, "unknown_field"),
        ({"plate_bbox": [1, 2, 3]}, "invalid_plate_bbox"),
        ({"plate_bbox": [1, 2, 0, 4]}, "invalid_plate_bbox"),
        ({"plate_bbox": [-1, 2, 3, 4]}, "invalid_plate_bbox"),
        ({"plate_bbox": [1.5, 2, 3, 4]}, "invalid_plate_bbox"),
        ({"plate_bbox": "10,10,50,12"}, "invalid_plate_bbox"),
    ],
)
def test_each_invalid_field_has_its_reason(overrides: dict, reason: str) -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_detection_new(encode(new_event(**overrides)), expected_bucket=TEST_BUCKET)
    assert rejected.value.reason == reason
    assert rejected.value.detail


@pytest.mark.parametrize("field", ["event_id", "camera_id", "detected_speed", "detected_at", "image_sha256"])
def test_missing_fields_are_named(field: str) -> None:
    event = new_event()
    del event[field]
    with pytest.raises(EventRejected) as rejected:
        parse_detection_new(encode(event))
    assert rejected.value.reason == f"missing_{field}"


def test_speed_not_over_the_limit_is_rejected() -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_detection_new(encode(new_event(detected_speed=50.0, speed_limit=60.0)))
    assert rejected.value.reason == "not_over_limit"
    assert "exceed" in rejected.value.detail


def test_image_in_another_bucket_is_rejected() -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_detection_new(encode(new_event(image_gcs_uri="gs://someone-else/x.jpg")), expected_bucket=TEST_BUCKET)
    assert rejected.value.reason == "invalid_image_gcs_uri"
    assert "someone-else" in rejected.value.detail


def test_completed_event_round_trips() -> None:
    payload = {
        "event_id": new_event()["event_id"],
        "detection_id": 7,
        "plate": "12가3456",
        "confidence": 0.93,
        "vehicle_id": None,
        "occurred_at": "2026-11-23T01:02:03+00:00",
    }
    event = parse_detection_completed(json.dumps(payload).encode())
    assert parse_detection_completed(event.to_json().encode()) == event


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"detection_id": "7"}, "invalid_detection_id"),
        ({"detection_id": 0}, "invalid_detection_id"),
        ({"confidence": 1.5}, "invalid_confidence"),
        ({"vehicle_id": -1}, "invalid_vehicle_id"),
        ({"occurred_at": "2026-11-23 01:02:03"}, "invalid_occurred_at"),
    ],
)
def test_invalid_completed_events_are_rejected(overrides: dict, reason: str) -> None:
    payload = {
        "event_id": new_event()["event_id"],
        "detection_id": 7,
        "plate": None,
        "confidence": None,
        "vehicle_id": None,
        "occurred_at": "2026-11-23T01:02:03+00:00",
        **overrides,
    }
    with pytest.raises(EventRejected) as rejected:
        parse_detection_completed(json.dumps(payload).encode())
    assert rejected.value.reason == reason


def _retired(**overrides: object) -> bytes:
    payload = {
        "event_id": new_event()["event_id"],
        "vehicle_id": 3,
        "fcm_token": "tok",
        "reason": "UNREGISTERED",
        "occurred_at": "2026-11-23T01:02:03+00:00",
        **overrides,
    }
    return json.dumps(payload).encode()


def test_token_retired_event_parses() -> None:
    event = parse_fcm_token_retired(_retired())
    assert event.vehicle_id == 3 and event.fcm_token == "tok"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"vehicle_id": "3"}, "invalid_vehicle_id"),
        ({"fcm_token": ""}, "invalid_fcm_token"),
        ({"fcm_token": "t" * 256}, "invalid_fcm_token"),
        ({"occurred_at": "now"}, "invalid_occurred_at"),
    ],
)
def test_invalid_token_retired_events_are_rejected(overrides: dict, reason: str) -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_fcm_token_retired(_retired(**overrides))
    assert rejected.value.reason == reason
