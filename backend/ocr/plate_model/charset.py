"""What a Korean plate can hold: 2-3 digits, one registered Hangul syllable, 4 digits."""

from __future__ import annotations

DIGITS = "0123456789"
# The syllables issued on plates: private cars, commercial (아바사자), rental (하허호), delivery (배).
HANGUL = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자하허호배"
CHARACTERS = DIGITS + HANGUL
