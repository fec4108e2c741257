"""Which registered vehicle a read plate belongs to, and only when that is certain.

An exact match of the read pushes (the read's confidence is checked apart from this).
A near miss is accepted only when it differs from exactly one registered plate in
OCR_FUZZY_MAX_CHARACTERS characters or fewer, every one of them a substitution the
engine is measured to make (the confusion pairs `manage.py ocr_eval --confusions` writes
from a held-out set next to the model), and no other registered plate is as close.
Any other near miss names its reason, and the detection goes to review.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from backend.vehicles.selectors import vehicle_by_plate, vehicles_with_similar_plates

if TYPE_CHECKING:
    from backend.vehicles.models import Vehicle

logger = logging.getLogger(__name__)


class MatchKind(StrEnum):
    EXACT = "exact"
    FUZZY = "fuzzy"


@dataclass(frozen=True)
class VehicleMatch:
    vehicle_id: int | None
    kind: MatchKind | None
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()
    # Why a near registered plate was not taken: a person should look (None: nothing near).
    refused: str | None = None


@lru_cache(maxsize=4)
def _confusion_pairs(path: str) -> frozenset[frozenset[str]]:
    try:
        pairs = json.loads(Path(path).read_text(encoding="utf-8"))["pairs"]
    except (OSError, ValueError, KeyError) as error:
        logger.warning("no confusion pairs at %s (%s): near misses all go to review", path, error)
        return frozenset()
    return frozenset(frozenset((pair["read"], pair["truth"])) for pair in pairs)


def confusion_pairs() -> frozenset[frozenset[str]]:
    """Character pairs the shipped engine was measured to mix up, in either direction."""
    return _confusion_pairs(str(settings.OCR_CONFUSIONS_FILE))


def differing_characters(read: str, registered: str) -> list[tuple[str, str]] | None:
    """The substituted (read, registered) characters, or None when the lengths differ:
    a dropped or extra character is never explained by a confusion."""
    if len(read) != len(registered):
        return None
    return [(a, b) for a, b in zip(read, registered, strict=True) if a != b]


def match_vehicle(plate: str) -> VehicleMatch:
    vehicle = vehicle_by_plate(plate)
    if vehicle is not None:
        return VehicleMatch(vehicle.pk, MatchKind.EXACT)
    limit = settings.OCR_FUZZY_MAX_CHARACTERS
    # (edits, vehicle, substitutions or None for a character more or less)
    near: list[tuple[int, Vehicle, list[tuple[str, str]] | None]] = []
    for candidate in vehicles_with_similar_plates(plate):
        differences = differing_characters(plate, candidate.plate_number)
        if differences is not None and 0 < len(differences) <= max(1, limit):
            near.append((len(differences), candidate, differences))
        elif differences is None and abs(len(plate) - len(candidate.plate_number)) == 1:
            near.append((1, candidate, None))
    if not near:
        return VehicleMatch(None, None)
    closest = min(edits for edits, _, _ in near)
    tied = [(vehicle, differences) for edits, vehicle, differences in near if edits == closest]
    if len(tied) > 1:
        return VehicleMatch(None, None, ambiguous=True, candidates=tuple(v.plate_number for v, _ in tied))
    vehicle, differences = tied[0]
    if limit == 0:
        return VehicleMatch(None, None, candidates=(vehicle.plate_number,), refused="fuzzy matching is off")
    if differences is None:
        return VehicleMatch(
            None, None, candidates=(vehicle.plate_number,), refused="a character more or less than the registered plate"
        )
    unexplained = [f"{a}→{b}" for a, b in differences if frozenset((a, b)) not in confusion_pairs()]
    if unexplained:
        return VehicleMatch(
            None,
            None,
            candidates=(vehicle.plate_number,),
            refused=f"differs by {', '.join(unexplained)}, not a measured confusion",
        )
    return VehicleMatch(vehicle.pk, MatchKind.FUZZY, candidates=(vehicle.plate_number,))
