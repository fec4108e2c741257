"""Frame sources: picamera2 on a Raspberry Pi, OpenCV VideoCapture for USB and RTSP
cameras and for video files, so the same code runs on a laptop against a recording."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.camera_config import Capture


@dataclass(frozen=True)
class Frame:
    index: int
    timestamp_s: float  # seconds; from the file's frame rate for recordings, the clock for live sources
    image: np.ndarray  # BGR


class SourceError(RuntimeError):
    pass


def is_live(source: str) -> bool:
    return source == "picamera2" or source.isdigit() or source.startswith(("/dev/", "rtsp://", "http://", "https://"))


def frames(capture: Capture, *, source: str | None = None) -> Iterator[Frame]:
    """Yield frames until the source ends (a file) or fails (a camera)."""
    source = source or capture.source
    if source == "picamera2":
        yield from _picamera2(capture)
        return
    yield from _opencv(source, capture)


def _opencv(source: str, capture: Capture) -> Iterator[Frame]:
    live = is_live(source)
    if not live and not Path(source).exists():
        raise SourceError(f"no such video file: {source}")
    device: int | str = int(source) if source.isdigit() else source
    reader = cv2.VideoCapture(device)
    if not reader.isOpened():
        raise SourceError(f"OpenCV cannot open {source}")
    if live and capture.width and capture.height:
        reader.set(cv2.CAP_PROP_FRAME_WIDTH, capture.width)
        reader.set(cv2.CAP_PROP_FRAME_HEIGHT, capture.height)
    file_fps = reader.get(cv2.CAP_PROP_FPS)
    fps = file_fps if (not live and 1 <= file_fps <= 240) else capture.fps
    started = time.monotonic()
    index = 0
    try:
        while True:
            ok, image = reader.read()
            if not ok:
                if live:
                    raise SourceError(f"{source} stopped delivering frames")
                return
            timestamp = time.monotonic() - started if live else index / fps
            yield Frame(index, timestamp, image)
            index += 1
    finally:
        reader.release()


def _picamera2(capture: Capture) -> Iterator[Frame]:
    try:
        from picamera2 import Picamera2  # Raspberry Pi OS: apt install python3-picamera2
    except ImportError as error:
        raise SourceError("picamera2 is not installed (apt install python3-picamera2 on Raspberry Pi OS)") from error
    camera = Picamera2()
    size = (capture.width or 1280, capture.height or 720)
    camera.configure(camera.create_video_configuration(main={"size": size, "format": "RGB888"}))
    camera.start()
    started = time.monotonic()
    index = 0
    try:
        while True:
            image = camera.capture_array()  # RGB888 is BGR in memory order, as OpenCV wants
            yield Frame(index, time.monotonic() - started, image)
            index += 1
    finally:
        camera.stop()
