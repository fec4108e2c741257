"""`python -m edge measure --annotate DIR`: what the meter saw, drawn for a person.

DIR/annotated.mp4 is the video at processing size with the measurement zone, each live
track's trail and each result ("speed +- uncertainty", or why not measured) written
at the end of the vehicle's path; DIR/vehicle-<track>.png is the frame each result came in.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from edge.measure import Blind, Outcome, SpeedMeter
from edge.sources import Frame

LABEL_SECONDS = 2.0  # how long a result stays written on the video


class Annotator:
    def __init__(self, meter: SpeedMeter, directory: Path, fps: float) -> None:
        self.meter = meter
        self.directory = directory
        self.fps = fps
        directory.mkdir(parents=True, exist_ok=True)
        self._writer: cv2.VideoWriter | None = None
        self._labels: list[tuple[Outcome, int]] = []  # outcome, shown until this frame

    def add(self, frame: Frame, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, Blind):
                continue
            self._labels.append((outcome, frame.index + int(LABEL_SECONDS * self.fps)))
        self._labels = [label for label in self._labels if label[1] >= frame.index]
        if self.meter.last_frame_index < 0:
            return
        image = self.meter.annotate(frame, [outcome for outcome, _ in self._labels])
        if self._writer is None:
            height, width = image.shape[:2]
            self._writer = cv2.VideoWriter(
                str(self.directory / "annotated.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height)
            )
        self._writer.write(image)
        for outcome in outcomes:
            if not isinstance(outcome, Blind):
                cv2.imwrite(str(self.directory / f"vehicle-{outcome.track_id}.png"), image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
