"""Which registered vehicle a read plate belongs to.

Exact match first. Otherwise one registered plate within a small, confusion-aware edit
distance is accepted and marked fuzzy: characters an OCR engine is known to mix up
(8/0, 6/5, 어/아, 오/우, ...) cost half an edit. Several plates that close are
ambiguous: no match, and the detection goes to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from backend.vehicles.selectors import vehicle_by_plate, vehicles_with_similar_plates

_CONFUSABLE_GROUPS = (
    "08",
    "38",
    "68",
    "56",
    "17",
    "14",
    "27",
    "49",
    "09",
    "어아",
    "오우",
    "고구",
    "노누",
    "도두",
    "로루",
    "모무",
    "보부",
    "소수",
    "조주",
    "거가",
    "너나",
    "더다",
    "러라",
    "머마",
    "버바",
    "서사",
    "저자",
    "허하",
    "호하",
)
CONFUSABLE = {frozenset(group) for group in _CONFUSABLE_GROUPS}


class MatchKind(StrEnum):
    EXACT = "exact"
    FUZZY = "fuzzy"


@dataclass(frozen=True)
class VehicleMatch:
    vehicle_id: int | None
    kind: MatchKind | None
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()


def plate_distance(a: str, b: str) -> float:
    """Weighted Levenshtein distance: confusable substitutions cost 0.5, other edits 1."""
    previous = [float(i) for i in range(len(b) + 1)]
    for i, ca in enumerate(a, start=1):
        current = [float(i)]
        for j, cb in enumerate(b, start=1):
            substitution = 0.0 if ca == cb else (0.5 if frozenset((ca, cb)) in CONFUSABLE else 1.0)
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution))
        previous = current
    return previous[-1]


def match_vehicle(plate: str) -> VehicleMatch:
    vehicle = vehicle_by_plate(plate)
    if vehicle is not None:
        return VehicleMatch(vehicle.pk, MatchKind.EXACT)
    limit = settings.OCR_FUZZY_MAX_DISTANCE
    if limit <= 0:
        return VehicleMatch(None, None)
    close = [v for v in vehicles_with_similar_plates(plate) if plate_distance(plate, v.plate_number) <= limit]
    if len(close) == 1:
        return VehicleMatch(close[0].pk, MatchKind.FUZZY, candidates=(close[0].plate_number,))
    if len(close) > 1:
        return VehicleMatch(None, None, ambiguous=True, candidates=tuple(v.plate_number for v in close))
    return VehicleMatch(None, None)
