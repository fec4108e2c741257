"""How the engine combines its models' reads, and what it refuses at start (no model runs:
the recognisers here are stand-ins with fixed answers; tests/ocr/test_engine.py reads with
the real ones)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.ocr.readers import EasyOcrPlateReader, check_configuration

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


class FixedRecogniser:
    """Reads every image it is given as `text` with `confidence`, and counts its batches."""

    def __init__(self, text: str, confidence: float) -> None:
        self.text, self.confidence = text, confidence
        self.batches: list[int] = []

    def read_batch(self, images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        self.batches.append(len(images))
        return [(self.text, self.confidence)] * len(images)


def a_plate_crop() -> bytes:
    crop = np.full((60, 280), 235, np.uint8)
    cv2.putText(crop, "12 3456", (20, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (20,), 3)
    return cv2.imencode(".png", crop)[1].tobytes()


def engine_of(*recognisers: FixedRecogniser) -> EasyOcrPlateReader:
    return EasyOcrPlateReader(recognisers, max_candidates=1, line_views=4)  # type: ignore[arg-type]


def test_models_that_agree_keep_their_confidence() -> None:
    read = engine_of(FixedRecogniser("12가3456", 0.96), FixedRecogniser("12가3456", 0.98)).read(a_plate_crop())
    assert read.text == "12가3456"
    assert read.confidence == pytest.approx(0.97)


def test_a_plate_only_one_model_reads_keeps_only_that_models_share() -> None:
    read = engine_of(FixedRecogniser("12가3456", 0.99), FixedRecogniser("12다3456", 0.9)).read(a_plate_crop())
    assert (read.text, read.confidence) == ("12가3456", pytest.approx(0.495))  # below any review threshold


def test_every_view_of_a_candidate_goes_through_each_model_in_one_batch() -> None:
    first, second = FixedRecogniser("12가3456", 0.5), FixedRecogniser("12가3456", 0.5)
    engine_of(first, second).read(a_plate_crop())
    assert first.batches == second.batches == [4]  # one line, four views, one pass


def test_an_engine_without_models_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one recogniser"):
        EasyOcrPlateReader([], max_candidates=1)


def test_models_that_read_another_alphabet_height_or_network_refuse_to_start(settings, tmp_path: Path) -> None:
    shipped = Path(settings.OCR_MODEL_DIRS[0])
    other = tmp_path / "other"
    shutil.copytree(shipped, other)
    config = other / "user_network" / "plate_ko.yaml"
    config.write_text(config.read_text("utf-8").replace("imgH: 32", "imgH: 64"), "utf-8")
    settings.OCR_MOCK, settings.OCR_ENGINE, settings.OCR_MODEL_DIRS = False, "plate", (shipped, other)
    with pytest.raises(ImproperlyConfigured, match="must agree to vote together"):
        check_configuration()
    shutil.copy(shipped / "user_network" / "plate_ko.yaml", config)
    network = other / "user_network" / "plate_ko.py"
    network.write_text(network.read_text("utf-8") + "\n# another network\n", "utf-8")
    with pytest.raises(ImproperlyConfigured, match="another network"):
        check_configuration()
    settings.OCR_MODEL_DIRS = (shipped, shipped)
    check_configuration()
