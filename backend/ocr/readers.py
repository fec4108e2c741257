"""Plate readers: the interface the OCR worker calls, and its implementations."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from PIL import Image


@dataclass(frozen=True)
class PlateRead:
    text: str | None
    confidence: float | None


class PlateReader(Protocol):
    def read(self, image: bytes) -> PlateRead: ...


class EmbeddedLabelPlateReader:
    """Stand-in for the OCR engine (OCR_MOCK=true), for demos and pipeline tests.

    It reads the plate that the sample generator (`python -m edge sample`) wrote
    into the image's metadata (JPEG comment or PNG text chunk `plate`) and
    reports it with confidence 0.99. It looks at no pixels.
    """

    CONFIDENCE = 0.99

    def __init__(self, latency_s: float = 0.0) -> None:
        # Drills and benchmarks give it a real engine's running time, so that work is in flight.
        self.latency_s = latency_s

    def read(self, image: bytes) -> PlateRead:
        if self.latency_s:
            time.sleep(self.latency_s)
        with Image.open(io.BytesIO(image)) as opened:
            label = opened.info.get("plate") or opened.info.get("comment")
        if isinstance(label, bytes):
            label = label.decode("utf-8", "replace")
        if not label:
            return PlateRead(text=None, confidence=None)
        return PlateRead(text=str(label).strip(), confidence=self.CONFIDENCE)


def check_configuration() -> None:
    """Refuse to start a worker that could not read a single plate. Cheap: loads no model."""
    if not settings.OCR_MOCK:
        raise ImproperlyConfigured(
            "No OCR engine is configured: the EasyOCR engine is not part of this build yet. "
            "Set OCR_MOCK=true to run the pipeline with the embedded-label stand-in."
        )


def build_plate_reader() -> PlateReader:
    """Build the configured reader. Called once per worker process, never per task."""
    check_configuration()
    return EmbeddedLabelPlateReader(latency_s=settings.OCR_MOCK_LATENCY_MS / 1000)
