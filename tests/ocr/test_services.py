"""The OCR service in-process: a fake reader in place of EasyOCR, the real GCS emulator and
broker. The end-to-end tests (test_tasks.py) run the same paths through the prefork worker;
these pin down each outcome in milliseconds."""

from __future__ import annotations

import hashlib

import pytest

from backend.detections.models import Detection
from backend.ocr.evidence import EvidenceError
from backend.ocr.readers import PlateRead
from backend.ocr.services import DetectionNotFound, process_detection
from edge.sample import render_snapshot
from harness.services import TestServices
from tests.factories import PendingDetectionFactory, VehicleFactory

# Committed: the subscriber of the running pipeline may see the completion event.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")
IMAGE = render_snapshot("12가3456", width=320, height=180)  # the fake reader ignores its pixels


class FakeReader:
    def __init__(self, text: str | None, confidence: float | None) -> None:
        self.result = PlateRead(text=text, confidence=confidence, bbox=(10, 20, 100, 30))
        self.calls = 0

    def read(self, image: bytes, *, plate_bbox: tuple[int, int, int, int] | None = None) -> PlateRead:
        self.calls += 1
        assert image == IMAGE
        return self.result


@pytest.fixture
def stored(services: TestServices) -> Detection:
    """A detection as ingest stores it, its evidence in the bucket."""
    return PendingDetectionFactory(image_gcs_uri=services.upload(IMAGE), image_sha256=hashlib.sha256(IMAGE).hexdigest())


def test_a_confident_read_of_a_registered_plate_completes_matched(stored: Detection) -> None:
    vehicle = VehicleFactory(plate_number="12가3456")
    detection = process_detection(stored.pk, reader=FakeReader("12가3456", 0.97))
    assert detection.status == Detection.Status.COMPLETED
    assert (detection.ocr_result, detection.vehicle_id, detection.needs_review) == ("12가3456", vehicle.pk, False)


def test_a_doubtful_read_is_held_for_review(stored: Detection) -> None:
    VehicleFactory(plate_number="12가3456")
    detection = process_detection(stored.pk, reader=FakeReader("12가3456", 0.5))
    assert detection.needs_review and detection.review_reason.startswith("low confidence 0.50")


def test_a_redelivery_after_completion_reads_nothing_again(stored: Detection) -> None:
    reader = FakeReader("34나5678", 0.99)
    first = process_detection(stored.pk, reader=reader)
    again = process_detection(stored.pk, reader=reader)
    assert reader.calls == 1 and again.pk == first.pk and again.ocr_result == "34나5678"


def test_altered_evidence_is_refused_before_any_read(services: TestServices) -> None:
    altered = PendingDetectionFactory(image_gcs_uri=services.upload(IMAGE), image_sha256="0" * 64)
    reader = FakeReader("12가3456", 0.99)
    with pytest.raises(EvidenceError, match="image_sha256_mismatch"):
        process_detection(altered.pk, reader=reader)
    assert reader.calls == 0


def test_a_failed_detection_is_left_alone_and_an_unknown_one_refused(stored: Detection) -> None:
    Detection.objects.filter(pk=stored.pk).update(status=Detection.Status.FAILED)
    reader = FakeReader("12가3456", 0.99)
    assert process_detection(stored.pk, reader=reader) is None and reader.calls == 0
    with pytest.raises(DetectionNotFound):
        process_detection(10**9, reader=reader)
