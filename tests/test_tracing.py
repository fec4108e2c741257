"""One trace per detection, edge to phone, through the real processes: the edge's spans
from this process, ingest, OCR (prefork) and alert (gevent) from theirs, all exported over
OTLP/HTTP to the local receiver (scripts/otlp_receiver.py) and decoded with
opentelemetry-proto."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from backend.common import tracing
from edge.forwarder import Forwarder
from edge.sample import render_snapshot
from edge.spool import Spool
from edge.uplink import Uplink
from harness.processes import wait_for
from tests.factories import VehicleFactory
from tests.support.events import register_test_camera
from tests.support.pipeline import events_for, wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".state" / "screenshots"


@pytest.fixture(scope="module")
def edge_tracing(pipeline) -> Iterator[None]:
    """This process plays the edge: its spans go to the same receiver as the roles'."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_BSP_SCHEDULE_DELAY"):
            patch.setenv(name, pipeline.services.env[name])
        assert tracing.configure_tracing("speedcam-edge")
        yield


def _spool_and_deliver(pipeline, tmp_path: Path, event: dict, image: bytes) -> None:
    """What edge.runner does for one violation: measure (the trace starts), spool, deliver."""
    spool = Spool(tmp_path / "spool", max_items=10, max_bytes=50_000_000)
    with tracing.span("edge measure", camera_id=event["camera_id"], event_id=event["event_id"]):
        event["traceparent"] = tracing.current_traceparent()
    spool.add(event, image, hashlib.sha256(image).hexdigest())
    with Uplink(pipeline.services.edge_config()) as uplink:
        [violation] = spool.due()
        Forwarder(spool, uplink).deliver(violation)
    tracing.flush()
    spool.close()


def _chain(spans: dict[str, dict], name: str) -> list[str]:
    """The names from this span up to the root."""
    by_id = {span["span_id"]: span for span in spans.values()}
    names, span = [], spans[name]
    while span is not None:
        names.append(span["name"])
        span = by_id.get(span["parent_span_id"])
    return names


def test_one_detection_is_one_trace_from_the_edge_to_the_push(pipeline, edge_tracing, tmp_path) -> None:
    token = f"fcm-{uuid.uuid4().hex}"
    VehicleFactory(plate_number="12가3456", owner_name="홍길동", fcm_token=token)
    register_test_camera("cam-07")
    event_id = str(uuid.uuid4())
    event = {
        "event_id": event_id,
        "camera_id": "cam-07",
        "location": "서울 강남구 테헤란로 123",
        "detected_speed": 97.0,
        "speed_limit": 60.0,
        "detected_at": datetime.now().astimezone().isoformat(timespec="milliseconds"),
    }
    _spool_and_deliver(pipeline, tmp_path, event, render_snapshot("12가3456"))

    detection = wait_detection(event_id)
    assert detection.status == "completed" and wait_notification(detection.pk).status == "sent"
    assert detection.trace_id and len(detection.trace_id) == 32

    expected = [
        "edge measure",
        "edge deliver",
        "edge upload",
        "edge publish",
        "ingest detections/new",
        "apply_async/ocr.process_detection",
        "run/ocr.process_detection",
        "ocr download",
        "ocr read",
        "ocr match",
        "ocr record",
        "ingest detections/completed",
        "apply_async/alert.send_notification",
        "run/alert.send_notification",
        "alert claim",
        "alert push",
        "alert record",
    ]
    found = wait_for(
        lambda: (
            (spans := pipeline.services.otlp.spans(detection.trace_id))
            and {span["name"] for span in spans} >= set(expected)
            and spans
        ),
        timeout=30,
        what="every span of the detection's trace",
    )
    spans = {span["name"]: span for span in found}
    # One trace, every hop a descendant of the one before: edge -> ingest -> OCR ->
    # detections/completed -> alert -> FCM.
    record_chain = _chain(spans, "alert record")
    for earlier, later in zip(
        ["edge measure", "edge publish", "ingest detections/new", "run/ocr.process_detection"],
        ["edge publish", "ingest detections/new", "run/ocr.process_detection", "ingest detections/completed"],
        strict=True,
    ):
        assert earlier in _chain(spans, later), f"{later} does not descend from {earlier}"
    assert "ingest detections/completed" in record_chain and "run/alert.send_notification" in record_chain
    services = {span["name"]: span["service"] for span in found}
    assert services["edge measure"] == "speedcam-edge" and services["ingest detections/new"] == "speedcam-ingest"
    assert services["ocr read"] == "speedcam-ocr" and services["alert push"] == "speedcam-alert"
    # The FCM call is the push's child, traced by the requests instrumentation.
    push = spans["alert push"]
    assert any(span["parent_span_id"] == push["span_id"] and span["kind"] == 3 for span in found)  # CLIENT
    for name in ("ingest detections/new", "ocr record", "alert record"):
        assert spans[name]["attributes"]["speedcam.event_id"] == event_id
        assert spans[name]["attributes"]["speedcam.detection_id"] == detection.pk

    # The logs join the trace: each role's lines about this detection carry its trace id.
    lines = [line for line in events_for(pipeline, event_id) if line.get("trace_id") not in (None, "0")]
    assert {line["trace_id"] for line in lines} == {detection.trace_id}
    assert {line.get("service") for line in lines} >= {"speedcam-ingest", "speedcam-ocr", "speedcam-alert"}

    # The receiver's timeline of this trace, as the README shows it.
    from tests.support.browser import chromium

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser = chromium(height=1250)
    try:
        browser.get(pipeline.services.otlp.timeline_url(detection.trace_id))
        assert "speedcam-alert · alert push" in browser.page_source
        browser.save_screenshot(str(SCREENSHOTS / "trace-timeline.png"))
    finally:
        browser.quit()
    (SCREENSHOTS / "trace.json").write_text(json.dumps(found, indent=1))
