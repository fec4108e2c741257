"""Vehicle matching: exact first, then one confusion-aware near miss, never a guess between several."""

from __future__ import annotations

import pytest

from backend.ocr.matching import MatchKind, VehicleMatch, match_vehicle, plate_distance
from backend.ocr.services import review_reason
from backend.vehicles.models import Vehicle


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("12가3456", "12가3456", 0.0),
        ("12가3452", "12가3456", 1.0),  # 2/6: not a known confusion
        ("12가3486", "12가3456", 1.0),
        ("12가3450", "12가3458", 0.5),  # 0/8: a known confusion
        ("12거3456", "12가3456", 0.5),  # 거/가
        ("123가3456", "12가3456", 1.0),  # a digit too many
        ("12나3456", "12가3456", 1.0),
    ],
)
def test_confusable_characters_cost_half_an_edit(a: str, b: str, distance: float) -> None:
    assert plate_distance(a, b) == distance


@pytest.mark.django_db(databases=["vehicles_db"])
def test_exact_then_fuzzy_then_ambiguous(settings) -> None:
    settings.OCR_FUZZY_MAX_DISTANCE = 1.0
    exact = Vehicle.objects.create(plate_number="12가3456", owner_name="갑")
    assert match_vehicle("12가3456").vehicle_id == exact.pk and match_vehicle("12가3456").kind == MatchKind.EXACT

    fuzzy = match_vehicle("12가3450")  # one digit away from exactly one registered plate
    assert fuzzy.vehicle_id == exact.pk and fuzzy.kind == MatchKind.FUZZY

    Vehicle.objects.create(plate_number="12가3458", owner_name="을")
    ambiguous = match_vehicle("12가3459")  # one edit from both
    assert ambiguous.vehicle_id is None and ambiguous.ambiguous
    assert set(ambiguous.candidates) == {"12가3456", "12가3458"}

    assert match_vehicle("99허9999").vehicle_id is None and not match_vehicle("99허9999").ambiguous
    settings.OCR_FUZZY_MAX_DISTANCE = 0
    assert match_vehicle("12가3450").vehicle_id is None


def test_review_reasons(settings) -> None:
    settings.OCR_REVIEW_CONFIDENCE = 0.6
    assert review_reason(None, None, VehicleMatch(None, None)) == "no valid plate read"
    assert review_reason("12가3456", 0.4, VehicleMatch(1, MatchKind.EXACT)).startswith("low confidence 0.40")
    assert review_reason("12가3456", 0.9, VehicleMatch(None, None, ambiguous=True, candidates=("a", "b"))) == (
        "ambiguous match: a, b"
    )
    assert review_reason("12가3456", 0.9, VehicleMatch(1, MatchKind.FUZZY)) is None
