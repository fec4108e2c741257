"""Plate readers: the interface the OCR worker calls, and its implementations."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from PIL import Image

from backend.common import tracing
from backend.contracts.plates import normalise_plate
from backend.ocr.localise import plate_candidates
from backend.ocr.plate_model.lines import recogniser_lines
from backend.ocr.voting import line_views, vote


@dataclass(frozen=True)
class PlateRead:
    text: str | None  # the best valid plate, or None when nothing valid was read
    confidence: float | None
    bbox: tuple[int, int, int, int] | None = None  # where it was read: x, y, width, height


class PlateReader(Protocol):
    def read(self, image: bytes, *, plate_bbox: tuple[int, int, int, int] | None = None) -> PlateRead: ...


class EmbeddedLabelPlateReader:
    """Stand-in for the OCR engine (OCR_MOCK=true), for demos and pipeline tests.

    It reads the plate that the sample generator (`python -m edge sample`) wrote
    into the image's metadata (JPEG comment or PNG text chunk `plate`) and
    reports it with confidence 0.99. It looks at no pixels.
    """

    CONFIDENCE = 0.99

    def __init__(self, latency_s: float = 0.0) -> None:
        # Drills and benchmarks give it a real engine's running time, so that work is in flight.
        self.latency_s = latency_s

    def read(self, image: bytes, *, plate_bbox: tuple[int, int, int, int] | None = None) -> PlateRead:
        if self.latency_s:
            time.sleep(self.latency_s)
        with Image.open(io.BytesIO(image)) as opened:
            label = opened.info.get("plate") or opened.info.get("comment")
        if isinstance(label, bytes):
            label = label.decode("utf-8", "replace")
        plate = normalise_plate(str(label).strip()) if label else None
        return PlateRead(text=plate, confidence=self.CONFIDENCE if plate else None)


@dataclass(frozen=True)
class Recogniser:
    """One EasyOCR Reader, and what its `recognize()` would use to read with it."""

    reader: Any
    height: int  # the network's input height (EasyOCR keeps it in a module global)
    ignore_characters: str  # characters of the model outside its language, never output

    @classmethod
    def of(cls, reader: Any) -> Recogniser:
        import easyocr.easyocr

        # Read right after the Reader is built: a custom model's yaml sets this global.
        return cls(reader, easyocr.easyocr.imgH, "".join(set(reader.character) - set(reader.lang_char)))

    def read_batch(self, images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence) of each image, in one forward pass. `Reader.recognize()` on a
        CPU reads one box per pass; the views of a plate in one batch take about a fifth less
        time (measured on the bench snapshots). The same steps as `recognize()`: each image
        scaled to the network's height and padded to the widest, EasyOCR's second pass at
        adjusted contrast for a read under 0.1, greedy CTC decoding."""
        from easyocr.recognition import get_text
        from easyocr.utils import get_image_list

        image_list, widest = [], self.height
        for image in images:
            height, width = image.shape
            scaled, scaled_width = get_image_list([[0, width, 0, height]], [], image, model_height=self.height)
            image_list += scaled
            widest = max(widest, scaled_width)
        if not image_list:
            return []
        reader = self.reader
        results = get_text(
            reader.character, self.height, int(widest), reader.recognizer, reader.converter, image_list,
            self.ignore_characters, "greedy", 5, len(image_list), 0.1, 0.5, 0.003, 0, reader.device,
        )  # fmt: skip
        return [(text, float(confidence)) for _, text, confidence in results]


class EasyOcrPlateReader:
    """Localise plate candidates with OpenCV, recognise each line in `line_views` views
    with every model of the engine and let all those reads vote (backend/ocr/voting.py),
    keep the best valid plate. The EasyOCR Readers are built once per process (see
    build_plate_reader)."""

    GOOD_ENOUGH = 0.9  # stop trying further candidates above this confidence

    def __init__(
        self,
        recognisers: Sequence[Recogniser],
        *,
        max_candidates: int,
        line_views: int = 1,
        detector_fallback: bool = False,
    ) -> None:
        if not recognisers:
            raise ValueError("an engine needs at least one recogniser")
        self.recognisers = tuple(recognisers)
        self.max_candidates = max_candidates
        self.line_views = line_views
        self.detector_fallback = detector_fallback

    def read(self, image: bytes, *, plate_bbox: tuple[int, int, int, int] | None = None) -> PlateRead:
        gray = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            raise ValueError("not a decodable image")
        best = PlateRead(text=None, confidence=None)
        hint = tuple(plate_bbox) if plate_bbox else None
        with tracing.span("ocr localise", candidates_limit=self.max_candidates) as span:
            candidates = list(plate_candidates(gray, hint=hint, limit=self.max_candidates))
            span.set_attribute("speedcam.candidates", len(candidates))
        for x, y, w, h in candidates:
            # Dark on light, two-line plates as one line (top line first), as the models were trained.
            lines = recogniser_lines(gray[y : y + h, x : x + w])
            for voted in self._vote_per_line(lines):
                if voted and (best.confidence is None or voted[1] > best.confidence):
                    best = PlateRead(text=voted[0], confidence=voted[1], bbox=(x, y, w, h))
            if best.confidence is not None and best.confidence >= self.GOOD_ENOUGH:
                return best
        if best.text is None and self.detector_fallback:
            for box, text, confidence in self.recognisers[0].reader.readtext(gray, detail=1):
                plate = normalise_plate(text)
                if plate and (best.confidence is None or confidence > best.confidence):
                    xs, ys = [p[0] for p in box], [p[1] for p in box]
                    bbox = (int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys)))
                    best = PlateRead(text=plate, confidence=float(confidence), bbox=bbox)
        return best

    def _vote_per_line(self, lines: Sequence[np.ndarray]) -> list[tuple[str, float] | None]:
        """Each line's voted plate: every view of every line goes through each model in one
        batch. A view's reads are one per model, each weighted 1/models, so a plate that
        every model reads in every view keeps its confidence, and one only some read loses
        the others' share."""
        views = [line_views(line, self.line_views) for line in lines]
        flat = [view for line in views for view in line]
        per_model = [recogniser.read_batch(flat) for recogniser in self.recognisers]
        weight = 1 / len(self.recognisers)
        voted, start = [], 0
        for line in views:
            view_reads = [
                [(normalise_plate(model_reads[index][0]), model_reads[index][1] * weight) for model_reads in per_model]
                for index in range(start, start + len(line))
            ]
            voted.append(vote(view_reads))
            start += len(line)
        return voted


PLATE_NETWORK = "plate_ko"
STOCK_FILES = ("craft_mlt_25k.pth", "korean_g2.pth")


def check_configuration() -> None:
    """Refuse to start a worker that could not read a single plate. Cheap: loads no model."""
    if settings.OCR_MOCK:
        return
    if settings.OCR_ENGINE == "plate":
        missing = [
            str(path)
            for directory in map(Path, settings.OCR_MODEL_DIRS)
            for path in (
                directory / "model" / f"{PLATE_NETWORK}.pth",
                directory / "user_network" / f"{PLATE_NETWORK}.py",
                directory / "user_network" / f"{PLATE_NETWORK}.yaml",
            )
            if not path.is_file()
        ]
        if missing:
            raise ImproperlyConfigured(
                f"OCR_ENGINE=plate but the model files are missing: {', '.join(missing)}. They ship in the "
                "repository (backend/ocr/models/plate_ko*); retrain with `python -m backend.ocr.plate_model train`."
            )
        _check_models_agree([Path(directory) for directory in settings.OCR_MODEL_DIRS])
    else:
        missing = [name for name in STOCK_FILES if not (Path(settings.OCR_STOCK_MODEL_DIR) / name).is_file()]
        if missing:
            raise ImproperlyConfigured(
                f"OCR_ENGINE=stock but {', '.join(missing)} are not in {settings.OCR_STOCK_MODEL_DIR}: fetch them "
                "once with `python manage.py fetch_ocr_models` on a machine with internet access."
            )


def _check_models_agree(directories: list[Path]) -> None:
    """The models vote on the same text in one batch each: they must share an alphabet and
    an input height. And one network: EasyOCR imports each model's network by its module
    name, so every Reader after the first gets the first one's module, whatever its own
    directory holds."""
    import yaml

    def reads(directory: Path) -> tuple[str, int, bytes]:
        network = directory / "user_network"
        config = yaml.safe_load((network / f"{PLATE_NETWORK}.yaml").read_text("utf-8")) or {}
        source = (network / f"{PLATE_NETWORK}.py").read_bytes()
        return str(config.get("character_list")), int(config.get("imgH") or 0), source

    first, *others = directories
    expected = reads(first)
    for other in others:
        if reads(other) != expected:
            raise ImproperlyConfigured(
                f"OCR_MODEL_DIRS: {other} reads other characters, another input height or another network "
                f"than {first} (user_network/plate_ko.yaml, plate_ko.py): models of one engine must agree "
                "to vote together."
            )


def preload_runtime() -> None:
    """Import the real engine's runtime (torch, EasyOCR) in the prefork parent, before it
    forks: its pages are then shared by the children copy-on-write instead of private to
    each (measured: an OCR child held 402 MiB of its own, the model being 1 MiB of it).
    No model is built and no torch thread started here: that happens in each child."""
    if settings.OCR_MOCK:
        return
    import gc

    import easyocr  # noqa: F401
    import torch  # noqa: F401

    gc.freeze()  # keep the collector from touching (and so copying) the shared objects


def build_plate_reader(*, warm_up: bool = True) -> PlateReader:
    """Build the configured reader. Called once per worker process, never per task."""
    check_configuration()
    if settings.OCR_MOCK:
        return EmbeddedLabelPlateReader(latency_s=settings.OCR_MOCK_LATENCY_MS / 1000)
    import easyocr  # heavy (torch): only where the real engine runs
    import torch

    # Each prefork child gets its share of the cores: more threads than cores only thrash.
    torch.set_num_threads(settings.OCR_TORCH_THREADS or max(1, (os.cpu_count() or 1) // settings.OCR_CONCURRENCY))

    if settings.OCR_ENGINE == "plate":
        recognisers = [
            Recogniser.of(
                easyocr.Reader(
                    ["ko"],
                    gpu=settings.OCR_GPU,
                    model_storage_directory=str(Path(directory) / "model"),
                    user_network_directory=str(Path(directory) / "user_network"),
                    recog_network=PLATE_NETWORK,
                    detector=False,
                    download_enabled=False,
                    quantize=False,  # slower than float on these CPUs, for the same accuracy
                    verbose=False,
                )
            )
            for directory in settings.OCR_MODEL_DIRS
        ]
        engine = EasyOcrPlateReader(
            recognisers, max_candidates=settings.OCR_MAX_CANDIDATES, line_views=settings.OCR_LINE_VIEWS
        )
    else:
        reader = easyocr.Reader(
            ["ko"],
            gpu=settings.OCR_GPU,
            model_storage_directory=str(settings.OCR_STOCK_MODEL_DIR),
            download_enabled=False,
            quantize=False,
            verbose=False,
        )
        engine = EasyOcrPlateReader(
            [Recogniser.of(reader)],
            max_candidates=settings.OCR_MAX_CANDIDATES,
            line_views=settings.OCR_LINE_VIEWS,
            detector_fallback=True,
        )
    if warm_up:
        _warm_up(engine)
    return engine


def _warm_up(engine: EasyOcrPlateReader) -> None:
    """One read of a blank plate, so the first task does not pay for lazy initialisation."""
    blank = np.full((120, 400), 230, np.uint8)
    cv2.rectangle(blank, (60, 40), (340, 90), (255,), -1)
    ok, encoded = cv2.imencode(".jpg", blank)
    if ok:
        engine.read(encoded.tobytes())
