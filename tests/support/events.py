from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from edge.sample import render_snapshot

TEST_BUCKET = "speedcam-test-images"
TEST_CAMERA = "cam-01"
TEST_LOCATION = "서울 강남구 테헤란로 123"
TEST_LIMIT = 60.0
KST = timezone(timedelta(hours=9))


def new_event(**overrides: Any) -> dict[str, Any]:
    """A valid `detections/new` payload of the test camera, stamped now."""
    event_id = overrides.pop("event_id", None) or str(uuid.uuid4())
    camera_id = overrides.get("camera_id", TEST_CAMERA)
    detected_at = datetime.now(KST)
    event = {
        "event_id": event_id,
        "camera_id": camera_id,
        "location": TEST_LOCATION,
        "detected_speed": 87.5,
        "speed_limit": TEST_LIMIT,
        "detected_at": detected_at.isoformat(timespec="milliseconds"),
        # The edge's naming (edge.uplink.evidence_object_name), also for ids the contract refuses.
        "image_gcs_uri": f"gs://{TEST_BUCKET}/detections/{camera_id}/{detected_at:%Y/%m/%d}/{event_id}.jpg",
        "image_sha256": "a" * 64,
    }
    event.update(overrides)
    return event


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def uploaded_event(services: Any, plate: str | None, **overrides: Any) -> dict[str, Any]:
    """A valid event whose snapshot (with `plate` embedded for the OCR stand-in) is in the emulator."""
    event = new_event(**overrides)
    image = render_snapshot(plate or "", width=640, height=360)
    _, name = event["image_gcs_uri"].removeprefix("gs://").split("/", 1)
    services.upload(image, name)
    event["image_sha256"] = hashlib.sha256(image).hexdigest()
    return event


def register_test_camera(camera_id: str = TEST_CAMERA, **overrides: Any) -> Any:
    from backend.cameras.services import register_camera

    values = {"location": TEST_LOCATION, "speed_limit": TEST_LIMIT, **overrides}
    return register_camera(camera_id, **values)[0]


def report_through_edge(services: Any, plate: str, *, camera_id: str, detected_at: datetime) -> Any:
    """A violation as the edge reports it: the camera registered, then the real uplink
    uploads the snapshot of `plate` and publishes `detections/new` (97 km/h where the limit
    is 60). Returns the event."""
    from edge.uplink import Uplink

    register_test_camera(camera_id)
    with Uplink(services.edge_config()) as uplink:
        return uplink.report_violation(
            render_snapshot(plate),
            camera_id=camera_id,
            location=TEST_LOCATION,
            detected_speed=97.0,
            speed_limit=TEST_LIMIT,
            detected_at=detected_at,
        )


def publish_detections(services: Any, payloads: list[Any], *, camera_id: str = TEST_CAMERA) -> None:
    """Register the camera (as provisioning would), then publish on its own topic."""
    from backend.contracts.events import detections_new_topic

    register_test_camera(camera_id)
    services.mqtt_publish(
        detections_new_topic(camera_id),
        [payload if isinstance(payload, (bytes, str)) else encode(payload) for payload in payloads],
    )
