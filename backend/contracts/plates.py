"""Korean licence plate numbers: what a valid one looks like, shared by every role.

Current plates: 2 or 3 digits, an issued syllable, 4 digits (12가3456, 123가4567).
Older green and yellow plates put a region before two digits (서울12가3456).
"""

from __future__ import annotations

import re
import unicodedata

DIGITS = "0123456789"
# The syllables issued on plates: private cars, commercial (아바사자), rental (하허호), delivery (배).
HANGUL = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자하허호배"
# The sixteen regions printed on older plates (the plate glyph scans A-P follow this order).
REGIONS = (
    "서울",
    "경기",
    "인천",
    "강원",
    "충남",
    "대전",
    "충북",
    "부산",
    "울산",
    "대구",
    "경북",
    "경남",
    "전남",
    "광주",
    "전북",
    "제주",
)
# Shown wherever a person types a plate and gets it wrong.
PLATE_EXAMPLES = "12가3456, 123가4567, 서울12가3456"
PLATE_PATTERN = re.compile(rf"^(?:(?:{'|'.join(REGIONS)})\d{{2}}|\d{{2,3}})[{HANGUL}]\d{{4}}$")


def normalise_plate(text: str | None) -> str | None:
    """Strip spaces and punctuation; return the plate if it has a valid format, else None."""
    if not text:
        return None
    compact = "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isalnum())
    return compact if PLATE_PATTERN.match(compact) else None
