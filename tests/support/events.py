from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from edge.sample import render_snapshot

TEST_BUCKET = "speedcam-test-images"


def new_event(**overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "camera_id": "cam-01",
        "location": "서울 강남구 테헤란로 123",
        "detected_speed": 87.5,
        "speed_limit": 60.0,
        "detected_at": "2026-11-23T10:02:03.120+09:00",
        "image_gcs_uri": f"gs://{TEST_BUCKET}/detections/cam-01/x.jpg",
        "image_sha256": "a" * 64,
    }
    event.update(overrides)
    return event


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def uploaded_event(services: Any, plate: str | None, **overrides: Any) -> dict[str, Any]:
    """A valid event whose snapshot (with `plate` embedded for the OCR stand-in) is in the emulator."""
    image = render_snapshot(plate or "", width=640, height=360)
    uri = services.upload(image)
    return new_event(image_gcs_uri=uri, image_sha256=hashlib.sha256(image).hexdigest(), **overrides)
