"""Synthetic Korean plate crops: many faces and glyph shapes, camera-like damage.

Real plates use a condensed, tall typeface that no Debian font matches, so glyphs are
squeezed or stretched (0.55-1.15 of their width), set with varied stroke weight and
spacing, and the crop then goes through perspective, rotation, loose or tight
cropping, downscaling, blur, noise, lighting and JPEG artefacts. Faces are split:
training never sees the held-out faces the model is evaluated on.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from backend.ocr.plate_model.charset import DIGITS, HANGUL
from backend.ocr.plate_model.lines import recogniser_line
from backend.ocr.plate_model.typeface import TWO_LINE_LAYOUTS, render_typeface_plate

IMG_H = 32
HELD_OUT_FAMILIES = ("Noto", "NanumBarunGothic")
SKIPPED_FAMILIES = ("Brush", "Pen Script", "YetHangul", "Coding")  # handwriting, archaic Hangul


@dataclass(frozen=True)
class Face:
    path: str
    index: int
    family: str
    style: str


def korean_faces() -> list[Face]:
    """Every installed face that covers Korean (fontconfig), Korean index of collections."""
    listing = subprocess.run(
        ["fc-list", ":lang=ko", "-f", "%{file}|%{index}|%{family[0]}|%{style[0]}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    faces = []
    for line in sorted(set(listing.splitlines())):
        path, index, family, style = [*line.split("|"), "", "", ""][:4]
        if any(skip in family for skip in SKIPPED_FAMILIES):
            continue
        if path.endswith(".ttc") and "CJK" in family and "KR" not in family:
            continue
        faces.append(Face(path, int(index or 0), family, style))
    return faces


def split_faces(faces: list[Face]) -> tuple[list[Face], list[Face]]:
    held_out = [f for f in faces if any(name in f.family for name in HELD_OUT_FAMILIES)]
    return [f for f in faces if f not in held_out], held_out


@lru_cache(maxsize=256)
def _font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, size, index=face.index)


def random_plate(rng: np.random.Generator) -> str:
    front = "".join(rng.choice(list(DIGITS), size=int(rng.choice([2, 3]))))
    return front + str(rng.choice(list(HANGUL))) + "".join(rng.choice(list(DIGITS), size=4))


def _glyph(char: str, face: Face, size: int, stroke: int, squeeze: float, ink: int) -> Image.Image:
    font = _font(face, size)
    left, top, right, bottom = font.getbbox(char, stroke_width=stroke)
    width, height = max(1, right - left), max(1, bottom - top)
    glyph = Image.new("L", (width + 4, height + 4), 0)
    ImageDraw.Draw(glyph).text((2 - left, 2 - top), char, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    return glyph.resize((max(2, int(glyph.width * squeeze)), glyph.height), Image.Resampling.BILINEAR)


def render_plate_image(text: str, face: Face, rng: np.random.Generator) -> np.ndarray:
    """A clean, upright plate (grey levels) before camera damage."""
    size = int(rng.integers(48, 72))
    stroke = int(rng.choice([0, 0, 1, 1, 2]))
    squeeze = float(rng.uniform(0.55, 1.15))
    hangul_scale = float(rng.uniform(0.85, 1.05))
    glyphs = [
        _glyph(
            ch, face, int(size * (hangul_scale if ch in HANGUL else 1.0)), stroke, squeeze * rng.uniform(0.95, 1.05), 0
        )
        for ch in text
    ]
    gap = int(size * rng.uniform(0.02, 0.18))
    text_w = sum(g.width for g in glyphs) + gap * (len(glyphs) - 1)
    text_h = max(g.height for g in glyphs)
    pad_x, pad_y = int(size * rng.uniform(0.2, 0.6)), int(size * rng.uniform(0.15, 0.4))
    band = int(size * rng.uniform(0.35, 0.6)) if rng.random() < 0.2 else 0  # a dark band on the left
    width, height = text_w + 2 * pad_x + band, text_h + 2 * pad_y
    paper, ink = int(rng.integers(190, 256)), int(rng.integers(0, 70))
    plate = Image.new("L", (width, height), paper)
    draw = ImageDraw.Draw(plate)
    if band:
        draw.rectangle((0, 0, band, height), fill=int(rng.integers(40, 120)))
    x = band + pad_x
    for glyph in glyphs:
        y = pad_y + (text_h - glyph.height) // 2 + int(rng.integers(-2, 3))
        plate.paste(Image.new("L", glyph.size, ink), (x, y), glyph)
        x += glyph.width + gap
    if rng.random() < 0.7:
        draw.rectangle((0, 0, width - 1, height - 1), outline=ink, width=int(rng.integers(1, 4)))
    return np.array(plate)


def damage(plate: np.ndarray, rng: np.random.Generator, *, height_scale: float = 1.0) -> np.ndarray:
    """Perspective, rotation, cropping, resolution, then what real cameras add (camera_effects)."""
    h, w = plate.shape
    background = int(rng.integers(30, 200))
    margin = int(max(h, w) * 0.25)
    canvas = np.full((h + 2 * margin, w + 2 * margin), background, np.uint8)
    canvas[margin : margin + h, margin : margin + w] = plate
    corners = np.float32([[margin, margin], [margin + w, margin], [margin + w, margin + h], [margin, margin + h]])
    jitter = rng.uniform(-0.06, 0.06, (4, 2)) * np.float32([w, h])
    angle = np.deg2rad(rng.uniform(-4, 4))
    centre = corners.mean(axis=0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = ((corners - centre) @ rotation.T + centre + jitter).astype(np.float32)
    warped = cv2.warpPerspective(
        canvas, cv2.getPerspectiveTransform(corners, moved), canvas.shape[::-1], borderValue=background
    )
    # Crop around the plate, loosely or tightly, as a localiser would.
    x0, y0 = moved.min(axis=0)
    x1, y1 = moved.max(axis=0)
    mx, my = (x1 - x0) * rng.uniform(-0.02, 0.12), (y1 - y0) * rng.uniform(-0.02, 0.2)
    xa, ya = int(max(0, x0 - mx)), int(max(0, y0 - my))
    xb, yb = int(min(warped.shape[1], x1 + mx)), int(min(warped.shape[0], y1 + my))
    crop = warped[ya:yb, xa:xb]
    # Most roadside plates are small: 20-40 px high for a one-line plate.
    target_h = int((rng.integers(20, 41) if rng.random() < 0.6 else rng.integers(40, 100)) * height_scale)
    crop = cv2.resize(
        crop, (max(8, int(crop.shape[1] * target_h / crop.shape[0])), target_h), interpolation=cv2.INTER_AREA
    )
    return camera_effects(crop, rng)


def camera_effects(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Motion blur along the direction of travel, low light and IR-like grey, glare and
    over-exposure, a partly covered frame, blur, noise, and JPEG at quality 60-95."""
    crop = crop.astype(np.float32)
    h, w = crop.shape
    if rng.random() < 0.2:  # a plate holder, mud or a tow bar over part of the frame
        shade = float(rng.choice([rng.uniform(0, 60), rng.uniform(180, 255)]))
        depth = max(1, int(h * rng.uniform(0.05, 0.18)))
        if rng.random() < 0.5:
            rows = slice(0, depth) if rng.random() < 0.5 else slice(h - depth, h)
            cols = slice(int(w * rng.uniform(0, 0.5)), int(w * rng.uniform(0.5, 1)))
        else:
            span = max(1, int(w * rng.uniform(0.03, 0.08)))
            rows, cols = slice(0, h), (slice(0, span) if rng.random() < 0.5 else slice(w - span, w))
        crop[rows, cols] = shade
    if rng.random() < 0.3:  # motion blur: vehicles move mostly up or down the image
        length = int(rng.integers(3, max(4, int(h * 0.15)) + 1))
        kernel = np.zeros((length, length), np.float32)
        kernel[:, length // 2] = 1.0
        rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(-30, 30)), 1.0)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        crop = cv2.filter2D(crop, -1, kernel / max(kernel.sum(), 1e-6))
    elif rng.random() < 0.7:
        crop = cv2.GaussianBlur(crop, (0, 0), float(rng.uniform(0.3, 1.1)))
    light = rng.random()
    if light < 0.15:  # dusk: dark, flat, noisy
        crop = crop * rng.uniform(0.25, 0.5) + rng.uniform(0, 15)
        crop += rng.normal(0, rng.uniform(2, 7), crop.shape)
    elif light < 0.25:  # infrared: the retroreflective plate glows, contrast is harsh
        crop = 255.0 * np.power(np.clip(crop / 255.0, 0, 1), rng.uniform(0.4, 0.7))
        crop = (crop - crop.mean()) * rng.uniform(1.2, 1.8) + crop.mean()
    elif light < 0.35:  # over-exposure
        crop = crop * rng.uniform(1.3, 1.9) + rng.uniform(0, 40)
    else:
        crop = crop * rng.uniform(0.6, 1.3) + rng.uniform(-40, 40)
    if rng.random() < 0.15:  # glare: a bright spot from the sun or a headlamp
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        radius = rng.uniform(0.15, 0.4) * h
        crop += rng.uniform(60, 160) * np.exp(-((yy - cy) ** 2 + ((xx - cx) / 2) ** 2) / (2 * radius**2))
    crop += rng.normal(0, rng.uniform(0, 8), crop.shape)
    crop = np.clip(crop, 0, 255).astype(np.uint8)
    if rng.random() < 0.85:
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="JPEG", quality=int(rng.integers(60, 96)))
        crop = np.array(Image.open(buffer))
    return crop


def plate_crop(text: str, face: Face, rng: np.random.Generator, *, unfold: bool = True) -> np.ndarray:
    """A font-rendered plate as the localiser would cut it from a snapshot; `unfold`: as
    the recogniser gets it."""
    crop = damage(render_plate_image(text, face, rng), rng)
    return recogniser_line(crop) if unfold else crop


def typeface_crop(text: str, layout: str, rng: np.random.Generator, *, unfold: bool = True) -> np.ndarray:
    """A plate in the real typeface as the localiser would cut it from a snapshot; `unfold`:
    as the recogniser gets it."""
    plate = cv2.cvtColor(render_typeface_plate(text, layout, rng), cv2.COLOR_BGR2GRAY)
    # Two-line plates are 170 mm high against 110: at the same distance they are taller.
    crop = damage(plate, rng, height_scale=1.5 if layout in TWO_LINE_LAYOUTS else 1.0)
    return recogniser_line(crop) if unfold else crop


def to_model_height(gray: np.ndarray) -> np.ndarray:
    """As EasyOCR's recognize() does: height IMG_H, aspect ratio kept."""
    h, w = gray.shape
    width = max(IMG_H, int(np.ceil(IMG_H * w / h)))
    return cv2.resize(gray, (width, IMG_H), interpolation=cv2.INTER_LINEAR)
