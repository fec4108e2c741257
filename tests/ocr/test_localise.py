"""Plate localisation in full 1280x720 snapshots (OpenCV only: no model)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from backend.ocr.localise import plate_candidates

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh

SCENES = Path(__file__).parent / "data" / "scenes"


def overlap(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_the_plate_is_among_the_first_candidates_in_nearly_every_snapshot() -> None:
    boxes = json.loads((SCENES / "boxes.json").read_text())
    found_first, found = 0, 0
    for name, truth in boxes.items():
        gray = cv2.imread(str(SCENES / name), cv2.IMREAD_GRAYSCALE)
        candidates = plate_candidates(gray, limit=4)
        ranks = [rank for rank, box in enumerate(candidates) if overlap(box, truth) > 0.4]
        found += bool(ranks)
        found_first += ranks[:1] == [0]
    assert found >= 0.9 * len(boxes), (found, len(boxes))
    assert found_first >= 0.75 * len(boxes), (found_first, len(boxes))


def test_a_box_from_the_edge_comes_first_and_is_clamped_to_the_image() -> None:
    gray = np.full((720, 1280), 100, np.uint8)
    assert plate_candidates(gray, hint=(1200, 700, 200, 60))[0] == (1200, 700, 80, 20)
    assert plate_candidates(gray, hint=(5000, 5000, 10, 10)) == []  # outside: ignored


def test_an_empty_road_yields_few_or_no_candidates() -> None:
    gray = np.full((720, 1280), 100, np.uint8)
    gray[400:] = 80
    assert plate_candidates(gray) == []
