"""Plates in the real Korean plate typeface, composed from scanned glyphs.

The glyph scans (digits, 37 syllables, 16 region names, and white, green and yellow
plate blanks) are vendored under third_party/korean-plate-glyphs (MIT, see its
README). Each layout below places them as the plate standard does:

    white-7       12가3456     one line, 520 x 110 (2006-2019 private cars)
    white-8       123가4567    one line, 520 x 110, narrower glyphs (since 2019)
    green-1line   12가3456     one line on the old green plate, white glyphs
    green-2line   서울12가3456  two lines, 336 x 170: region and 2 digits over syllable and
                  12가3456     4 digits; without region: 2 digits and syllable over 4 digits
    yellow-2line  서울12아3456  commercial: as green-2line, black on yellow

The scans lack 하, 호 and 배: those are drawn in a bold sans face into the same glyph
box and colours, so they appear, but in a close stand-in of the typeface.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from backend.ocr.plate_model.charset import DIGITS, HANGUL, REGIONS

GLYPHS_DIR = Path(__file__).resolve().parents[3] / "third_party" / "korean-plate-glyphs"
LAYOUTS = ("white-7", "white-8", "green-1line", "green-2line", "yellow-2line")
COMMERCIAL = "아바사자배"
TWO_LINE_LAYOUTS = ("green-2line", "yellow-2line")

# The region scans are named A-P, in the contract's order of REGIONS (서울, 경기, ... 제주).
REGION_SCANS = dict(zip("ABCDEFGHIJKLMNOP", REGIONS, strict=True))
_INITIALS = {"r": 0, "s": 2, "e": 3, "f": 5, "a": 6, "q": 7, "t": 9, "d": 11, "w": 12, "g": 18}
_VOWELS = {"k": 0, "j": 4, "h": 8, "n": 13}


def _syllable(key: str) -> str:
    """The scans are named by their keys on a Korean keyboard: 'rk' is 가."""
    return chr(0xAC00 + (_INITIALS[key[0]] * 21 + _VOWELS[key[1]]) * 28)


@dataclass(frozen=True)
class Glyphs:
    plate: np.ndarray  # BGR blank
    digits: dict[str, np.ndarray]
    syllables: dict[str, np.ndarray]
    regions: dict[str, np.ndarray]
    ink: tuple[int, int, int]
    light_on_dark: bool


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"{path}: the vendored plate glyphs are missing (third_party/korean-plate-glyphs)")
    return image


@lru_cache(maxsize=4)
def glyphs(colour: str) -> Glyphs:
    """colour: white, green or yellow. Yellow plates reuse the yellow digits and syllables."""
    suffix = {"white": "", "green": "_g", "yellow": "_y"}[colour]
    digits = {d: _read(GLYPHS_DIR / f"num{suffix}" / f"{d}.jpg") for d in DIGITS}
    syllables = {_syllable(p.stem): _read(p) for p in sorted((GLYPHS_DIR / f"char1{suffix}").glob("*.jpg"))}
    region_dir = GLYPHS_DIR / f"region{suffix or '_g'}"
    regions = {name: _read(region_dir / f"{letter}.jpg") for letter, name in REGION_SCANS.items()}
    plate = _read(GLYPHS_DIR / f"plate{suffix}.jpg")
    sample = digits["8"].reshape(-1, 3).astype(np.int32)
    brightness = sample.sum(axis=1)
    light_on_dark = colour == "green"
    ink_pixels = sample[brightness >= np.percentile(brightness, 95)] if light_on_dark else sample[brightness < 200]
    median = np.median(ink_pixels, axis=0)
    ink = (int(median[0]), int(median[1]), int(median[2]))
    return Glyphs(plate, digits, syllables, regions, ink, light_on_dark)


@lru_cache(maxsize=8)
def _standin_font(size: int) -> ImageFont.FreeTypeFont | None:
    from backend.ocr.plate_model.render import korean_faces

    bold = [f for f in korean_faces() if "Gothic" in f.family and ("Bold" in f.style or "ExtraBold" in f.style)]
    face = bold[0] if bold else next(iter(korean_faces()), None)
    return ImageFont.truetype(face.path, size, index=face.index) if face else None


def _standin_glyph(char: str, like: np.ndarray, ink: tuple[int, int, int]) -> np.ndarray:
    """A syllable the scans lack, drawn into a scan-sized box in the scans' colours."""
    h, w = like.shape[:2]
    paper = tuple(int(v) for v in np.median(like.reshape(-1, 3)[:200], axis=0))
    font = _standin_font(h)
    canvas = Image.new("RGB", (w * 2, h * 2), paper[::-1])
    if font is not None:
        ImageDraw.Draw(canvas).text(
            (w, h), char, fill=ink[::-1], font=font, anchor="mm", stroke_width=2, stroke_fill=ink[::-1]
        )
    drawn = np.array(canvas)[:, :, ::-1]
    grey = drawn.sum(axis=2)
    rows, cols = np.where(np.abs(grey - sum(paper)) > 60)
    if len(rows):
        drawn = drawn[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    pad_y, pad_x = int(h * 0.06), int(w * 0.06)
    fitted = cv2.resize(drawn, (w - 2 * pad_x, h - 2 * pad_y), interpolation=cv2.INTER_AREA)
    out = np.empty_like(like)
    out[:] = paper
    out[pad_y : pad_y + fitted.shape[0], pad_x : pad_x + fitted.shape[1]] = fitted
    return out


@lru_cache(maxsize=32)
def _syllable_image(colour: str, char: str) -> np.ndarray:
    kit = glyphs(colour)
    if char in kit.syllables:
        return kit.syllables[char]
    return _standin_glyph(char, kit.syllables["가"], kit.ink)


@lru_cache(maxsize=8)
def _blank(colour: str, width: int, height: int) -> np.ndarray:
    return cv2.resize(glyphs(colour).plate, (width, height), interpolation=cv2.INTER_AREA)


def random_text(layout: str, rng: np.random.Generator) -> str:
    digits = lambda n: "".join(rng.choice(list(DIGITS), size=n))  # noqa: E731
    syllable = str(rng.choice(list(COMMERCIAL if layout == "yellow-2line" else HANGUL)))
    if layout == "white-8":
        return digits(3) + syllable + digits(4)
    if layout in TWO_LINE_LAYOUTS and (layout == "yellow-2line" or rng.random() < 0.6):
        return str(rng.choice(REGIONS)) + digits(2) + syllable + digits(4)
    return digits(2) + syllable + digits(4)


def _place(plate: np.ndarray, glyph: np.ndarray, x: int, y: int, w: int, h: int, light_on_dark: bool) -> None:
    fitted = cv2.resize(glyph, (w, h), interpolation=cv2.INTER_AREA)
    region = plate[y : y + h, x : x + w]
    # Ink over the blank, not the scan's own paper: no visible glyph rectangles.
    plate[y : y + h, x : x + w] = np.maximum(region, fitted) if light_on_dark else np.minimum(region, fitted)


def _line(
    plate: np.ndarray, items: list[tuple[np.ndarray, int]], *, y: int, h: int, gaps: list[int], kit: Glyphs, jitter
) -> None:
    total = sum(w for _, w in items) + sum(gaps)
    x = max(3, min(plate.shape[1] - total - 3, (plate.shape[1] - total) // 2 + jitter(6)))
    for index, (glyph, w) in enumerate(items):
        _place(plate, glyph, x, y + jitter(2), w, h, kit.light_on_dark)
        x += w + (gaps[index] if index < len(gaps) else 0)


def render_typeface_plate(text: str, layout: str, rng: np.random.Generator) -> np.ndarray:
    """A clean, upright BGR plate in the real typeface, before camera damage."""
    colour = layout.split("-")[0]
    kit = glyphs(colour)

    def jitter(n: int) -> int:
        return int(rng.integers(-n, n + 1))

    region = next((r for r in REGIONS if text.startswith(r)), None)
    body = text[len(region) :] if region else text
    syllable_at = next(i for i, ch in enumerate(body) if not ch.isdigit())
    front, syllable, back = body[:syllable_at], body[syllable_at], body[syllable_at + 1 :]
    digit = kit.digits.__getitem__
    if layout in TWO_LINE_LAYOUTS:
        plate = _blank(colour, 336, 170).copy()
        if region:
            top = [(kit.regions[region], 88)] + [(digit(d), 44) for d in front]
            _line(plate, top, y=14, h=60, gaps=[6, 2], kit=kit, jitter=jitter)
            bottom = [(_syllable_image(colour, syllable), 62)] + [(digit(d), 60) for d in back]
            _line(plate, bottom, y=72, h=88, gaps=[4, 2, 2, 2], kit=kit, jitter=jitter)
        else:
            top = [(digit(d), 60) for d in front] + [(_syllable_image(colour, syllable), 60)]
            _line(plate, top, y=10, h=62, gaps=[2, 8], kit=kit, jitter=jitter)
            _line(plate, [(digit(d), 72) for d in back], y=74, h=88, gaps=[4, 4, 4], kit=kit, jitter=jitter)
        return plate
    plate = _blank(colour, 520, 110).copy()
    if len(front) == 3:
        items = (
            [(digit(d), 47) for d in front] + [(_syllable_image(colour, syllable), 54)] + [(digit(d), 47) for d in back]
        )
        gaps = [1, 1, 6, 22, 1, 1, 1]
    else:
        items = (
            [(digit(d), 56) for d in front] + [(_syllable_image(colour, syllable), 60)] + [(digit(d), 56) for d in back]
        )
        gaps = [0, 2, 34, 0, 0, 0]
    _line(plate, items, y=13, h=83, gaps=gaps, kit=kit, jitter=jitter)
    return plate
