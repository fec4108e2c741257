"""Korean licence plate text: normalise and validate."""

from __future__ import annotations

import re
import unicodedata

from backend.ocr.plate_model.charset import HANGUL

# 2 or 3 digits, one of the syllables issued on plates, 4 digits (e.g. 12가3456, 123가4567).
PLATE_PATTERN = re.compile(rf"^\d{{2,3}}[{HANGUL}]\d{{4}}$")


def normalise_plate(text: str | None) -> str | None:
    """Strip spaces and punctuation; return the plate if it has a valid format, else None."""
    if not text:
        return None
    compact = "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isalnum())
    return compact if PLATE_PATTERN.match(compact) else None
