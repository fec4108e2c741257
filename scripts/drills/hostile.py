"""Hostile `detections/new` payloads for the bad-input drill: what a broken or compromised
camera could send with its own, valid broker credentials.

Each payload comes with the category it belongs to. None of them may become a detection.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

# For text fields: anything but text; for numbers: anything but a number.
NOT_TEXT: list[object] = [None, True, [], {}, 1, 1.5, [1, 2], {"a": 1}]
NOT_A_NUMBER: list[object] = [None, True, False, [], {}, "90", "fast", [90], {"kmh": 90}]
OUT_OF_RANGE: dict[str, list[object]] = {
    "event_id": ["", "not-a-uuid", "0" * 36, "12345678-1234-1234-1234-1234567890123"],
    "camera_id": ["", "c" * 51, "cam/01", "cam.01", "../etc", "cam 01", "캠-01", "\u0000"],
    "location": ["", "x" * 256],
    "detected_speed": [0, -1, 400.1, 1e308, -1e308, "NaN", 1e-300],
    "speed_limit": [0, -60, 200.1, 1e12],
    "detected_at": [
        "0001-01-01T00:00:00+09:00",
        "9999-12-31T23:59:59-14:00",
        "2020-01-01T00:00:00+00:00",
        "2999-01-01T00:00:00+00:00",
        "2026-13-45T99:99:99+00:00",
        "2026-11-23T10:02:03",
        "yesterday",
        "",
    ],
    "image_gcs_uri": [
        "",
        "http://example.com/x.jpg",
        "gs://other-bucket/detections/x.jpg",
        "gs://BUCKET/../../etc/passwd",
        "gs://BUCKET/" + "x" * 600,
        "gs://BUCKET/detections/x\u0000.jpg",
    ],
    "image_sha256": ["", "A" * 64, "g" * 64, "0" * 63, "0" * 65],
    "plate_bbox": [[-1, 0, 10, 10], [0, 0, 0, 10], [0, 0, 10], [1.5, 0, 10, 10], [0, 0, 10, 10**9], "box"],
}


def valid_event(camera_id: str, bucket: str, *, location: str, limit: float) -> dict:
    event_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    return {
        "event_id": event_id,
        "camera_id": camera_id,
        "location": location,
        "detected_speed": limit + 30.0,
        "speed_limit": limit,
        "detected_at": now.isoformat(timespec="milliseconds"),
        "image_gcs_uri": f"gs://{bucket}/detections/{camera_id}/{now:%Y/%m/%d}/{event_id}.jpg",
        "image_sha256": "0" * 64,
    }


def hostile_payloads(
    count: int,
    *,
    camera_id: str,
    victim_camera_id: str,
    victim_object: str,
    bucket: str,
    location: str,
    limit: float,
    seed: int = 7,
) -> Iterator[tuple[str, bytes]]:
    """`count` (category, payload) pairs for `camera_id`'s own topic."""
    rng = random.Random(seed)

    def base() -> dict:
        return valid_event(camera_id, bucket, location=location, limit=limit)

    def encode(value: object) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()

    def random_bytes() -> bytes:
        return rng.randbytes(rng.randint(1, 2000))

    def truncated() -> bytes:
        data = encode(base())
        return data[: rng.randint(1, len(data) - 1)]

    def deep_nesting() -> bytes:
        depth = rng.choice([50, 1000, 5000])  # under 16 KiB: the parser must cope
        return b'{"event_id": ' + b"[" * depth + b"]" * depth + b"}"

    def utf16() -> bytes:
        return json.dumps(base(), ensure_ascii=False).encode(rng.choice(["utf-16", "utf-16-le", "utf-32"]))

    def not_an_object() -> bytes:
        return encode(rng.choice([[base()], "detection", 42, None, True]))

    def wrong_type() -> bytes:
        event = base()
        field = rng.choice(list(event))
        numeric = field in ("detected_speed", "speed_limit")
        event[field] = rng.choice(NOT_A_NUMBER if numeric else NOT_TEXT)
        return encode(event)

    def out_of_range() -> bytes:
        event = base()
        field = rng.choice(list(OUT_OF_RANGE))
        value = rng.choice(OUT_OF_RANGE[field])
        event[field] = value.replace("BUCKET", bucket) if isinstance(value, str) else value
        data = encode(event)
        # JSON's NaN is not standard but Python's parser takes it: send the bare token.
        return data.replace(b'"NaN"', b"NaN")

    def missing_or_extra() -> bytes:
        event = base()
        if rng.random() < 0.5:
            event.pop(rng.choice(list(event)))
        else:
            event[rng.choice(["vehicle_id", "plate", "__proto__", "status", "owner"])] = "x"
        return encode(event)

    def not_over_the_limit() -> bytes:
        event = base()
        event["detected_speed"] = rng.choice([limit, limit - 10, limit / 2])
        return encode(event)

    def claims_a_higher_limit() -> bytes:
        # Over its own claimed limit, not over the registered one: the registry decides.
        event = base()
        event["speed_limit"], event["detected_speed"] = limit / 2, limit - 1
        return encode(event)

    def impersonation() -> bytes:
        event = base()
        event["camera_id"] = victim_camera_id
        event["image_gcs_uri"] = event["image_gcs_uri"].replace(f"/{camera_id}/", f"/{victim_camera_id}/")
        return encode(event)

    def other_camera_s_object() -> bytes:
        event = base()
        event["image_gcs_uri"] = f"gs://{bucket}/{victim_object}"
        event["detected_at"] = (datetime.now(UTC) - timedelta(days=rng.randint(0, 6))).isoformat()
        return encode(event)

    def own_prefix_other_event() -> bytes:
        event = base()
        event["image_gcs_uri"] = f"gs://{bucket}/detections/{camera_id}/2026/01/01/{uuid.uuid4()}.jpg"
        return encode(event)

    def too_large() -> bytes:
        event = base()
        event["location"] = "x" * rng.choice([17_000, 40_000])
        return encode(event)

    kinds = [
        random_bytes,
        truncated,
        deep_nesting,
        utf16,
        not_an_object,
        wrong_type,
        out_of_range,
        missing_or_extra,
        not_over_the_limit,
        claims_a_higher_limit,
        impersonation,
        other_camera_s_object,
        own_prefix_other_event,
        too_large,
    ]
    for index in range(count):
        kind = kinds[index % len(kinds)]
        yield kind.__name__, kind()
