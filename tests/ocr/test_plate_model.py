"""The plate renderer and the two-line unfolding (pure logic: no services, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.contracts.plates import normalise_plate
from backend.ocr.plate_model.charset import CHARACTERS
from backend.ocr.plate_model.lines import recogniser_lines, split_row
from backend.ocr.plate_model.render import camera_effects, typeface_crop
from backend.ocr.plate_model.typeface import LAYOUTS, TWO_LINE_LAYOUTS, glyphs, random_text, render_typeface_plate

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


def test_the_vendored_glyphs_cover_every_digit_region_and_most_syllables() -> None:
    for colour in ("white", "green", "yellow"):
        kit = glyphs(colour)
        assert len(kit.digits) == 10 and len(kit.regions) == 16
        assert len(kit.syllables) == 37  # the scans lack 하, 호 and 배: drawn as stand-ins


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_renders_valid_plates_in_the_alphabet(layout: str) -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        text = random_text(layout, rng)
        assert normalise_plate(text) == text and set(text) <= set(CHARACTERS)
        plate = render_typeface_plate(text, layout, rng)
        assert plate.ndim == 3 and plate.shape[:2] == ((170, 336) if layout in TWO_LINE_LAYOUTS else (110, 520))


def test_commercial_plates_carry_commercial_syllables() -> None:
    rng = np.random.default_rng(2)
    assert all(random_text("yellow-2line", rng)[4] in "아바사자배" for _ in range(50))


@pytest.mark.parametrize("layout", TWO_LINE_LAYOUTS)
def test_two_line_plates_unfold_into_one_line(layout: str) -> None:
    rng = np.random.default_rng(3)
    unfolded = 0
    for _ in range(40):
        crop = typeface_crop(random_text(layout, rng), layout, rng, unfold=False)
        line = recogniser_lines(crop, two_line=False)[0]  # as the gap detector unfolds it
        unfolded += line.shape[1] / line.shape[0] > 4
    assert unfolded >= 34  # measured 90-92 %; the rest go to review as unreadable


@pytest.mark.parametrize("layout", TWO_LINE_LAYOUTS)
def test_a_squat_crop_is_also_cut_where_the_gap_usually_is(layout: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(40):
        crop = typeface_crop(random_text(layout, rng), layout, rng, unfold=False)
        lines = recogniser_lines(crop)
        # Whether or not the detector found the gap, the reader gets lines cut in two.
        assert sum(line.shape[1] > crop.shape[1] for line in lines) >= 2
        # Training gets only lines cut in two for a two-line plate.
        assert all(line.shape[1] > crop.shape[1] for line in recogniser_lines(crop, two_line=True))


@pytest.mark.parametrize("layout", ["white-7", "white-8", "green-1line"])
def test_one_line_plates_stay_as_they_are(layout: str) -> None:
    rng = np.random.default_rng(4)
    crops = [typeface_crop(random_text(layout, rng), layout, rng, unfold=False) for _ in range(40)]
    assert sum(split_row(crop) is not None for crop in crops) <= 1


def test_camera_effects_keep_size_and_type() -> None:
    rng = np.random.default_rng(5)
    crop = np.full((30, 140), 200, np.uint8)
    for _ in range(30):
        damaged = camera_effects(crop, rng)
        assert damaged.shape == crop.shape and damaged.dtype == np.uint8


def test_a_demo_snapshot_carries_its_plate_for_the_stand_in(tmp_path) -> None:
    from backend.ocr.plate_model.__main__ import main
    from edge.sample import plate_label

    out = tmp_path / "sample.jpg"
    assert main(["snapshot", "--plate", "부산98배7654", "--layout", "yellow-2line", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data[:2] == b"\xff\xd8" and plate_label(data) == "부산98배7654"
    assert main(["snapshot", "--plate", "not a plate", "--out", str(out)]) == 2


def test_a_held_out_set_records_the_command_that_writes_it_again(tmp_path) -> None:
    import json
    import shlex

    from backend.ocr.plate_model.__main__ import main

    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["heldout", "--out", str(first), "--crops", "2", "--layout", "green-2line", "--seed", "7"]) == 0
    command = json.loads((first / "set.json").read_text(encoding="utf-8"))["command"]
    assert command == "python -m backend.ocr.plate_model heldout --crops 2 --scenes 0 --seed 7 --layout green-2line"
    assert main([*shlex.split(command)[3:], "--out", str(second)]) == 0
    assert (first / "labels.json").read_text(encoding="utf-8") == (second / "labels.json").read_text(encoding="utf-8")
