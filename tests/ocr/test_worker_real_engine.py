"""The OCR worker as deployed: the real EasyOCR engine in two prefork children, whose
runtime (torch, EasyOCR) the parent imported before forking them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness import profiling
from harness.processes import SCRIPTS, Consuming, Pipeline, wait_for
from tests.factories import VehicleFactory
from tests.support.events import report_through_edge
from tests.support.pipeline import wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def _maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def test_the_real_engine_reads_in_children_that_share_the_parents_runtime(pipeline: Pipeline) -> None:
    real = pipeline.role(
        "ocr-worker-real-engine",
        [str(SCRIPTS / "start_ocr_worker.sh")],
        Consuming("OCR_METRICS_PORT"),
        OCR_MOCK="false",
        OCR_CONCURRENCY="2",
    )
    pipeline.ocr.stop()  # the stand-in would take the task otherwise
    try:
        real.start(timeout=120)
        assert real.process is not None
        parent = real.process.pid
        assert _maps_torch(parent), "the parent imports torch before it forks"
        children = wait_for(
            lambda: len(found := profiling.children(parent)) == 2 and found, what="two prefork children"
        )
        assert all(_maps_torch(child) for child in children)

        token = f"fcm-{uuid.uuid4().hex}"
        vehicle = VehicleFactory(plate_number="12가3456", owner_name="홍길동", fcm_token=token)
        event = report_through_edge(
            pipeline.services, "12가3456", camera_id="cam-08", detected_at=datetime.now(UTC).replace(microsecond=0)
        )
        detection = wait_detection(str(event.event_id), timeout=60)
        assert detection.status == "completed", detection.error_message
        # The engine's own read and confidence (the stand-in always says 0.99), and the
        # worker's decision on it: a match, or review with its reason.
        assert detection.ocr_result and detection.ocr_confidence != pytest.approx(0.99)
        assert detection.vehicle_id == vehicle.pk or detection.review_reason
    finally:
        real.stop()
        pipeline.ocr.start()
