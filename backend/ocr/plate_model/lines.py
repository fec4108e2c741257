"""A plate crop into the shape the recogniser reads: one line, dark text on light.

Older green and yellow plates stack region and digits over syllable and digits. A
squat crop (width under 3.2 times its height) with a clear gap between two bands of
character strokes is cut at that gap, and the top line is set left of the bottom one at the
same height. The gap detector misses about one two-line crop in ten (blur, glare, a tilted
plate), so a squat crop is also cut at the heights where the gap usually lies, and the
reader tries every such line. Training and the reader call the same function, so the
model sees exactly what the worker will give it.

Old green plates carry white text on a dark ground: such a crop is inverted first, so
the recogniser learns one polarity instead of two.
"""

from __future__ import annotations

import cv2
import numpy as np

ONE_LINE_MIN_ASPECT = 3.2
GAP_SEARCH = (0.25, 0.65)  # where the gap between the lines can be, as a share of the height
# Edge energy in the gap row against the text rows' upper quartile: measured on rendered
# crops, two-line plates give 0.2-1.0, one-line plates 1.2 and up.
GAP_EDGE_RATIO = 1.1
# Where the gap of a two-line plate lies, as a share of the crop's height, when the detector
# finds none: measured on rendered crops it lies at 0.27-0.45 of the height (loose crops lower).
SPLIT_FRACTIONS = (0.35, 0.42, 0.5)


def split_row(gray: np.ndarray) -> int | None:
    """The row between the two lines of text, or None for a one-line plate."""
    h, w = gray.shape
    if h < 12 or w / h >= ONE_LINE_MIN_ASPECT:
        return None
    # Character strokes make vertical edges in either polarity; the gap between the lines,
    # the frame's top and bottom edges and the background around the plate hardly do.
    edges = np.abs(cv2.Sobel(gray.astype(np.float32), cv2.CV_32F, 1, 0, ksize=3))
    margin = max(1, int(w * 0.12))
    profile = edges[:, margin : w - margin].mean(axis=1)
    window = max(1, h // 40)
    profile = np.convolve(profile, np.ones(window) / window, mode="same")
    low, high = int(h * GAP_SEARCH[0]), int(h * GAP_SEARCH[1])
    gap = low + int(np.argmin(profile[low:high]))
    above, below = profile[int(h * 0.08) : gap], profile[gap : int(h * 0.92)]
    if not len(above) or not len(below):
        return None
    text_edges = min(float(np.percentile(above, 75)), float(np.percentile(below, 75)))
    return gap if text_edges > 0 and profile[gap] < GAP_EDGE_RATIO * text_edges else None


def unfold_at(gray: np.ndarray, row: int) -> np.ndarray:
    """The rows above `row` scaled to the height of those below and set left of them."""
    top, bottom = gray[:row], gray[row:]
    height = bottom.shape[0]
    top = cv2.resize(top, (max(1, round(top.shape[1] * height / top.shape[0])), height), interpolation=cv2.INTER_LINEAR)
    return np.hstack([top, bottom])


def two_line_cuts(gray: np.ndarray, gap: int | None) -> list[int]:
    """Rows at which a crop may hold the gap between two lines: the detected `gap` first,
    then, for a squat crop, the usual heights of the gap not already close to it."""
    height, width = gray.shape
    rows = [gap] if gap is not None else []
    if height >= 12 and width / height < ONE_LINE_MIN_ASPECT:
        for row in (round(height * share) for share in SPLIT_FRACTIONS):
            if all(abs(row - other) > height * 0.04 for other in rows):
                rows.append(row)
    return rows


def dark_text_on_light(gray: np.ndarray) -> np.ndarray:
    """Invert a crop whose text is lighter than its ground (old green plates). Text is the
    minority of a plate's middle: measured on rendered crops, the bright share of the middle
    is 0.5-0.87 on white and yellow plates and 0.19-0.5 on green ones."""
    h, w = gray.shape
    middle = gray[h // 6 : h - h // 6, w // 12 : w - w // 12]
    if middle.size == 0:
        return gray
    threshold, _ = cv2.threshold(middle, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return 255 - gray if (middle > threshold).mean() < 0.5 else gray


def recogniser_lines(gray: np.ndarray, *, two_line: bool | None = None) -> list[np.ndarray]:
    """Every line the recogniser should try for a plate crop, likeliest first: the
    plate's polarity decided on the whole plate, then the crop as the gap detector
    unfolds it, then a squat crop cut at the usual heights of the gap. `two_line`: what
    training knows of the plate (True: only the cut lines; False: only the first line);
    None, as in the worker, tries them all."""
    ground = dark_text_on_light(gray)
    gap = split_row(ground)
    lines = ([] if gap is not None else [ground]) + [unfold_at(ground, row) for row in two_line_cuts(ground, gap)]
    if two_line is True:
        return lines[0 if gap is not None else 1 :] or lines
    if two_line is False:
        return lines[:1]
    return lines


def recogniser_line(gray: np.ndarray) -> np.ndarray:
    """The likeliest line for a plate crop (see recogniser_lines)."""
    return recogniser_lines(gray)[0]
