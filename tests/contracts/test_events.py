"""The event contract, field by field (pure logic: no services)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from backend.contracts.events import (
    MAX_PAYLOAD_BYTES,
    TOPIC_CAMERA_STATUS,
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_DETECTIONS_NEW,
    EventRejected,
    camera_status_topic,
    detections_new_topic,
    parse_camera_status,
    parse_detection_completed,
    parse_detection_new,
    parse_fcm_token_retired,
    topic_kind,
)
from tests.support.events import TEST_BUCKET, encode, new_event

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


def test_valid_event_parses_with_types_and_offset_normalised_to_utc() -> None:
    payload = new_event(detected_at="2026-11-23T10:02:03.120+09:00")
    event = parse_detection_new(encode(payload), expected_bucket=TEST_BUCKET)
    assert event.detected_speed == 87.5
    assert event.detected_at == datetime(2026, 11, 23, 1, 2, 3, 120000, tzinfo=UTC)
    assert event.detected_at.utcoffset().total_seconds() == 0
    assert event.image_bucket == TEST_BUCKET
    assert event.location == "서울 강남구 테헤란로 123"


def test_the_edge_may_say_where_the_plate_is() -> None:
    event = parse_detection_new(encode(new_event(plate_bbox=[410, 520, 96, 22])), expected_bucket=TEST_BUCKET)
    assert event.plate_bbox == (410, 520, 96, 22)
    assert parse_detection_new(encode(new_event()), expected_bucket=TEST_BUCKET).plate_bbox is None


def test_the_edge_may_send_the_measurement_behind_the_speed() -> None:
    measured = {"detected_speed": 87.5, "measured_speed": 92.4, "speed_uncertainty": 1.6, "speed_tolerance": 3.0}
    event = parse_detection_new(encode(new_event(**measured)), expected_bucket=TEST_BUCKET)
    assert (event.measured_speed, event.speed_uncertainty, event.speed_tolerance) == (92.4, 1.6, 3.0)
    assert json.loads(event.to_json())["measured_speed"] == 92.4
    plain = parse_detection_new(encode(new_event()), expected_bucket=TEST_BUCKET)
    assert "measured_speed" not in json.loads(plain.to_json())  # the original design's payload stays as it was


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"measured_speed": 80.0}, "detected_above_measured"),  # detected 87.5 cannot exceed what was measured
        ({"measured_speed": 89.0, "speed_uncertainty": 1.0, "speed_tolerance": 3.0}, "detected_above_measured"),
        ({"measured_speed": "92"}, "invalid_measured_speed"),
        ({"speed_uncertainty": -0.1}, "invalid_speed_uncertainty"),
        ({"speed_tolerance": True}, "invalid_speed_tolerance"),
    ],
)
def test_an_inconsistent_measurement_is_rejected(overrides: dict, reason: str) -> None:
    with pytest.raises(EventRejected) as rejected:
        parse_detection_new(encode(new_event(**overrides)), expected_bucket=TEST_BUCKET)
    assert rejected.value.reason == reason


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


@pytest.mark.parametrize(
    ("detected_at", "reason"),
    [
        ("0001-01-01T00:00:00+09:00", "invalid_detected_at"),  # before year 1 in UTC
        ("9999-12-31T23:59:59-09:00", "invalid_detected_at"),  # after year 9999 in UTC
        ("2026-11-23T12:06:00+00:00", "detected_at_in_future"),
        ("2026-11-15T11:59:59+00:00", "detected_at_too_old"),
    ],
)
def test_detected_at_is_bounded(detected_at: str, reason: str) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with pytest.raises(EventRejected) as caught:
        parse_detection_new(encode(new_event(detected_at=detected_at)), now=now, max_age=timedelta(days=7))
    assert caught.value.reason == reason


def test_detected_at_inside_the_window_is_accepted() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    for detected_at in ("2026-11-23T12:04:59+00:00", "2026-11-16T12:00:01+00:00", "2026-11-23T20:59:00+09:00"):
        parse_detection_new(encode(new_event(detected_at=detected_at)), now=now, max_age=timedelta(days=7))


def test_topics_name_their_camera() -> None:
    assert topic_kind(detections_new_topic("cam-01")) == (TOPIC_DETECTIONS_NEW, "cam-01")
    assert topic_kind(camera_status_topic("cam_7")) == (TOPIC_CAMERA_STATUS, "cam_7")
    assert topic_kind(TOPIC_DETECTIONS_COMPLETED) == (TOPIC_DETECTIONS_COMPLETED, None)
    # The bare topic, a dotted id, a deeper path: no camera can be named by them.
    for topic in ("detections/new", "detections/new/cam.01", "detections/new/a/b", "cameras/x/y/status", "#"):
        assert topic_kind(topic)[1] is None


def test_camera_ids_that_would_break_routing_keys_or_paths_are_refused() -> None:
    for camera_id in ("cam.01", "cam/01", "cam 01", "../x", "", "c" * 51):
        with pytest.raises(EventRejected) as caught:
            parse_detection_new(encode(new_event(camera_id=camera_id)))
        assert caught.value.reason == "invalid_camera_id"


def test_camera_status_parses_and_refuses_junk() -> None:
    status = parse_camera_status(b'{"camera_id": "cam-01", "state": "online", "counters": {"measured": 4}}')
    assert status.state == "online" and status.counters == {"measured": 4}
    assert parse_camera_status(b'{"camera_id": "cam-01", "state": "offline"}').sent_at is None
    for payload in (
        b'{"camera_id": "cam-01", "state": "asleep"}',
        b'{"camera_id": "cam-01", "state": "online", "x": 1}',
    ):
        with pytest.raises(EventRejected):
            parse_camera_status(payload)
