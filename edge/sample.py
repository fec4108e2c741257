"""Synthetic snapshots for demos and tests.

The plate text is drawn on the image and also written into the JPEG comment,
which is what the OCR stand-in (OCR_MOCK=true) reads.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SAMPLE_PLATES = ("12가3456", "34나5678", "123다4567", "56라7890", "78마1234")


@lru_cache(maxsize=8)
def _hangul_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if shutil.which("fc-match"):
        path = subprocess.run(["fc-match", "-f", "%{file}", ":lang=ko"], capture_output=True, text=True).stdout
        if path:
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                pass
    return ImageFont.load_default(size=size)


def render_snapshot(plate: str, *, width: int = 1280, height: int = 720, seed: int | None = None) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randint(60, 90),) * 3)
    draw = ImageDraw.Draw(image)
    draw.polygon([(width * 0.3, 0), (width * 0.7, 0), (width, height), (0, height)], fill=(70, 70, 75))
    car = (width * 0.3, height * 0.35, width * 0.7, height * 0.85)
    draw.rounded_rectangle(car, radius=30, fill=tuple(rng.randint(30, 220) for _ in range(3)))
    plate_box = (width * 0.4, height * 0.68, width * 0.6, height * 0.76)
    draw.rectangle(plate_box, fill=(245, 245, 245), outline=(20, 20, 20), width=3)
    font = _hangul_font(int(height * 0.05))
    draw.text(
        ((plate_box[0] + plate_box[2]) / 2, (plate_box[1] + plate_box[3]) / 2),
        plate,
        fill=(10, 10, 10),
        font=font,
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, comment=plate.encode("utf-8"))
    return buffer.getvalue()


def plate_label(image: bytes) -> str | None:
    """The plate a sample snapshot carries in its JPEG comment, if any."""
    try:
        with Image.open(io.BytesIO(image)) as opened:
            label = opened.info.get("comment")
    except OSError:
        return None
    return label.decode("utf-8", "replace") if isinstance(label, bytes) else label
