"""The recogniser's output alphabet: digits, the issued syllables, and the syllables of
the region names on older plates. Its order is fixed by the shipped model."""

from __future__ import annotations

from backend.contracts.plates import DIGITS, HANGUL, REGIONS

REGION_SYLLABLES = "".join(sorted({ch for region in REGIONS for ch in region} - set(HANGUL)))
CHARACTERS = DIGITS + HANGUL + REGION_SYLLABLES

__all__ = ["CHARACTERS", "DIGITS", "HANGUL", "REGIONS", "REGION_SYLLABLES"]
