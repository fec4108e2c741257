"""Vehicle matching: exact, or a near miss the engine is measured to make towards exactly
one registered plate; everything else goes to review with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.ocr.matching import MatchKind, VehicleMatch, differing_characters, match_vehicle
from backend.ocr.readers import PlateRead
from backend.ocr.services import judge_read, review_reason
from tests.factories import VehicleFactory


@pytest.fixture
def measured_confusions(settings, tmp_path: Path) -> None:
    """As `ocr_eval --confusions` writes them: 3 read for 5, and 다 read for 가."""
    path = tmp_path / "confusions.json"
    pairs = [{"read": "3", "truth": "5", "count": 4}, {"read": "다", "truth": "가", "count": 2}]
    path.write_text(json.dumps({"pairs": pairs}, ensure_ascii=False), encoding="utf-8")
    settings.OCR_CONFUSIONS_FILE = path
    settings.OCR_FUZZY_MAX_CHARACTERS = 1
    settings.OCR_REVIEW_CONFIDENCE = 0.8


def test_differing_characters() -> None:
    assert differing_characters("12가3456", "12가3456") == []
    assert differing_characters("12다3436", "12가3456") == [("다", "가"), ("3", "5")]
    assert differing_characters("123가3456", "12가3456") is None


pytestmark = pytest.mark.django_db(databases="__all__")


def test_an_exact_match(measured_confusions) -> None:
    exact = VehicleFactory(plate_number="12가3456", owner_name="갑")
    assert match_vehicle("12가3456") == VehicleMatch(exact.pk, MatchKind.EXACT)


def test_a_measured_confusion_towards_one_plate_matches(measured_confusions) -> None:
    vehicle = VehicleFactory(plate_number="12가3456", owner_name="갑")
    for read in ("12가3436", "12다3456"):  # 3 for 5, 다 for 가: both measured
        match = match_vehicle(read)
        assert match.vehicle_id == vehicle.pk and match.kind == MatchKind.FUZZY


def test_an_unmeasured_difference_goes_to_review(measured_confusions) -> None:
    VehicleFactory(plate_number="12가3456", owner_name="갑")
    match = match_vehicle("12가3457")  # 7 for 6: never measured
    assert match.vehicle_id is None and match.refused == "differs by 7→6, not a measured confusion"
    assert review_reason("12가3457", 0.99, match) == (
        "near registered 12가3456: differs by 7→6, not a measured confusion"
    )
    dropped = match_vehicle("2가3456")  # a dropped first digit is never a confusion
    assert dropped.vehicle_id is None and dropped.refused


def test_two_registered_plates_as_close_are_ambiguous(measured_confusions) -> None:
    VehicleFactory(plate_number="12가3456", owner_name="갑")
    VehicleFactory(plate_number="12가3436", owner_name="을")
    match = match_vehicle("12가3446")
    assert match.vehicle_id is None and match.ambiguous
    assert set(match.candidates) == {"12가3456", "12가3436"}


def test_a_confusion_with_two_differences_is_not_taken(measured_confusions) -> None:
    VehicleFactory(plate_number="12가3456", owner_name="갑")
    assert match_vehicle("12다3436").vehicle_id is None


def test_fuzzy_matching_off_sends_near_misses_to_review(measured_confusions, settings) -> None:
    VehicleFactory(plate_number="12가3456", owner_name="갑")
    settings.OCR_FUZZY_MAX_CHARACTERS = 0
    match = match_vehicle("12가3436")
    assert match.vehicle_id is None and match.refused == "fuzzy matching is off"


def test_nothing_near_is_just_unmatched(measured_confusions) -> None:
    VehicleFactory(plate_number="12가3456", owner_name="갑")
    verdict = judge_read(PlateRead("99허9999", 0.99))
    assert verdict.match == VehicleMatch(None, None) and verdict.review_reason is None


def test_a_doubtful_misread_that_is_another_registered_plate_is_held_by_the_confidence_rule(
    measured_confusions,
) -> None:
    """The car is 12가3456; the engine misreads 12가3436, which is someone else's car."""
    VehicleFactory(plate_number="12가3456", owner_name="갑")
    bystander = VehicleFactory(plate_number="12가3436", owner_name="을")
    doubtful = judge_read(PlateRead("12가3436", 0.62))
    assert doubtful.match.vehicle_id == bystander.pk  # an exact match to the wrong owner ...
    assert doubtful.review_reason == "low confidence 0.62 < 0.80"  # ... held back for a person
    confident = judge_read(PlateRead("12가3436", 0.97))
    assert confident.review_reason is None and confident.match.kind == MatchKind.EXACT


def test_review_reasons(settings) -> None:
    settings.OCR_REVIEW_CONFIDENCE = 0.6
    assert review_reason(None, None, VehicleMatch(None, None)) == "no valid plate read"
    assert review_reason("12가3456", 0.4, VehicleMatch(1, MatchKind.EXACT)).startswith("low confidence 0.40")
    assert review_reason("12가3456", None, VehicleMatch(1, MatchKind.EXACT)).startswith("low confidence none")
    assert review_reason("12가3456", 0.9, VehicleMatch(None, None, ambiguous=True, candidates=("a", "b"))) == (
        "ambiguous match: a, b"
    )
    assert review_reason("12가3456", 0.9, VehicleMatch(1, MatchKind.FUZZY)) is None
