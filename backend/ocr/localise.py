"""Where the licence plate might be in a full snapshot: ranked candidate boxes (OpenCV).

Plates are rectangles about 4.7 times as wide as tall (520 x 110 mm; two-line ones 2.0),
crossed by densely spaced strokes, dark on white and yellow plates, light on old green
ones. Two cues find them: the black-hat transform (dark detail on a light ground, and
the same on the inverted image) closed into text lines, and bright blobs of plate
proportions. Every candidate is widened by the margins the recogniser was
trained with. A box the edge sent (`plate_bbox`) goes first.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height
ASPECT = (1.3, 7.5)  # two-line plates are 2:1, less when cut loosely or seen at an angle
MAX_WIDTH = 1280  # larger snapshots are searched scaled down
MAX_CROP_HEIGHT = 300  # taller images are snapshots, never a plate crop
CROP_ASPECT = (1.0, 7.5)  # a two-line plate cut loosely by hand or by the edge is nearly square


def plate_candidates(gray: np.ndarray, *, hint: Box | None = None, limit: int = 5) -> list[Box]:
    height, width = gray.shape
    scale = min(1.0, MAX_WIDTH / width)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    found = [
        (score, (int(x / scale), int(y / scale), int(w / scale), int(h / scale)))
        # Dark characters on a light plate, and light ones on a dark (old green) plate.
        for score, (x, y, w, h) in _text_lines(small) + _text_lines(255 - small) + _bright_rectangles(small)
    ]
    ranked = [_with_margins(box, width, height) for box in _suppress_overlaps(sorted(found, key=lambda i: -i[0]))]
    edge_box = _clamp(hint, width, height) if hint is not None else None
    candidates = ([edge_box] if edge_box else []) + ranked
    candidates = candidates[:limit]
    # A small image of plate proportions may be the plate itself (a crop): a candidate too.
    if (
        height <= MAX_CROP_HEIGHT
        and CROP_ASPECT[0] <= width / height <= CROP_ASPECT[1]
        and (0, 0, width, height) not in candidates
    ):
        candidates = [*candidates[: limit - 1], (0, 0, width, height)]
    return candidates


def _plate_like(w: int, h: int, image_w: int, image_h: int) -> bool:
    return h >= 8 and w >= 24 and ASPECT[0] <= w / h <= ASPECT[1] and w <= image_w * 0.6 and h <= image_h * 0.3


def _shape_score(w: int, h: int) -> float:
    return 1.0 / (1.0 + abs(np.log((w / h) / 4.7)))


def _text_lines(gray: np.ndarray) -> list[tuple[float, Box]]:
    h_img, w_img = gray.shape
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 5)))
    gradient = np.absolute(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=3))
    gradient = cv2.normalize(gradient, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    gradient = cv2.GaussianBlur(gradient, (5, 5), 0)
    closed = cv2.morphologyEx(gradient, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (21, 5)))
    _, mask = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.erode(mask, None, iterations=1)
    mask = cv2.dilate(mask, None, iterations=2)
    found = []
    for contour in cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]:
        x, y, w, h = cv2.boundingRect(contour)
        if not _plate_like(w, h, w_img, h_img):
            continue
        region = gray[y : y + h, x : x + w]
        contrast = float(region.std()) / 64.0
        found.append((_shape_score(w, h) * min(1.5, contrast) * cv2.contourArea(contour) / (w * h), (x, y, w, h)))
    return found


def _bright_rectangles(gray: np.ndarray) -> list[tuple[float, Box]]:
    h_img, w_img = gray.shape
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3)))
    found = []
    for contour in cv2.findContours(bright, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[0]:
        x, y, w, h = cv2.boundingRect(contour)
        if not _plate_like(w, h, w_img, h_img):
            continue
        rectangularity = cv2.contourArea(contour) / (w * h)
        if rectangularity < 0.6:
            continue
        inside = gray[y : y + h, x : x + w]
        ink = float((inside < inside.mean() - 30).mean())  # characters: a share of dark pixels
        if not 0.05 <= ink <= 0.6:
            continue
        found.append((_shape_score(w, h) * rectangularity, (x, y, w, h)))
    return found


def _suppress_overlaps(scored: list[tuple[float, Box]], threshold: float = 0.5) -> list[Box]:
    kept: list[Box] = []
    for _, box in scored:
        if all(_iou(box, other) < threshold for other in kept):
            kept.append(box)
    return kept


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def _with_margins(box: Box, width: int, height: int) -> Box:
    x, y, w, h = box
    mx, my = int(w * 0.06), int(h * 0.15)
    return _clamp((x - mx, y - my, w + 2 * mx, h + 2 * my), width, height) or box


def _clamp(box: Box, width: int, height: int) -> Box | None:
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    return (x0, y0, x1 - x0, y1 - y0) if x1 - x0 >= 8 and y1 - y0 >= 6 else None
