"""Read one plate line several times, framed a little differently, and let the reads vote.

A single read of a small, blurred plate can flip on a pixel of framing: 바 or 사, 모 or 보,
with a confidence above 0.9. The same line framed a little tighter or looser is read
again; a plate counts only with the share of views that read it. Measured on held-out
renders of the real typeface (README "Reading plates"), four views read more plates
right than one, and, because a slip rarely repeats in every view, a wrong read seldom
keeps a high confidence: the review threshold can sit lower for the same precision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import cv2
import numpy as np

Line = np.ndarray  # a plate line at any height, dark text on light (plate_model.lines)
View = Callable[[Line], Line]

# How much tighter or looser a view is framed: chosen, with the views themselves, on the
# calibration renders (README "Reading plates").
SIDE_SHARE = 0.03  # of the width
ROW_SHARE = 0.06  # of the height


def as_cut(line: Line) -> Line:
    return line


def tighter_rows(line: Line) -> Line:
    """Without a strip at the top and the bottom: the frame's edge, or a cut just off the gap."""
    rows = max(1, int(line.shape[0] * ROW_SHARE))
    return line[rows:-rows] if line.shape[0] > 4 * rows else line


def looser_frame(line: Line) -> Line:
    """With its border repeated around it, as if the localiser had cut it wider."""
    height, width = line.shape
    rows, columns = max(1, int(height * ROW_SHARE)), max(1, int(width * SIDE_SHARE))
    return cv2.copyMakeBorder(line, rows, rows, columns, columns, cv2.BORDER_REPLICATE)


def softened(line: Line) -> Line:
    """Slightly blurred: JPEG blocks and sensor noise stop looking like strokes."""
    return cv2.GaussianBlur(line, (3, 3), 0)


# In the order they are worth adding, as measured on the calibration set: the first is the
# line as the localiser cut it, so OCR_LINE_VIEWS=1 is a single plain read.
LINE_VIEWS: tuple[View, ...] = (as_cut, tighter_rows, looser_frame, softened)


def line_views(line: Line, count: int) -> list[Line]:
    return [view(line) for view in LINE_VIEWS[:count]]


def vote(reads: Sequence[Sequence[tuple[str | None, float]]]) -> tuple[str, float] | None:
    """The plate most views agree on, and its confidence: the sum of the confidences of the
    views that read it, over all views (a plate read by one view of four at 0.99 scores
    0.25). `reads` holds, per view, its (plate or None, confidence) results; None, a read
    that is no valid plate, votes for nothing."""
    if not reads:
        return None
    scores: dict[str, float] = defaultdict(float)
    for view_reads in reads:
        for plate, confidence in view_reads:
            if plate:
                scores[plate] += confidence
    if not scores:
        return None
    plate, total = max(scores.items(), key=lambda item: item[1])
    return plate, total / len(reads)
