"""The real engine: EasyOCR's Reader with the model this project trains and ships,
offline, on plate crops and full road snapshots in the real plate typeface (every layout)
and in fonts training never saw, rendered from seeds training never used (tests/ocr/data,
written by `python -m backend.ocr.plate_model heldout`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from backend.ocr.plate_model.typeface import LAYOUTS
from backend.ocr.readers import EasyOcrPlateReader, build_plate_reader
from harness.processes import DB_NAME_VARIABLES
from harness.services import REPO_ROOT

DATA = Path(__file__).parent / "data"
# Measured on the shipped model (README "Reading plates"); the bars sit a little below.
MIN_CROP_EXACT = 0.83  # measured 93.6 % (131 of 140), four views voting
MIN_SCENE_EXACT = 0.9  # measured 96.7 % (29 of 30)


@pytest.fixture(scope="module")
def reader() -> EasyOcrPlateReader:
    """Built once, as in a worker process, with every outbound connection recorded."""
    connections: list[object] = []

    def audit(event: str, args: tuple) -> None:
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and address and address[0] not in ("127.0.0.1", "::1", "localhost"):
                connections.append(address)

    sys.addaudithook(audit)
    from django.conf import settings

    settings.OCR_MOCK = False
    try:
        engine = build_plate_reader()
    finally:
        settings.OCR_MOCK = True
    assert isinstance(engine, EasyOcrPlateReader)
    engine._offline_connections = connections  # checked by the test below
    return engine


def labelled(directory: Path) -> list[tuple[str, bytes, str]]:
    labels = json.loads((directory / "labels.json").read_text("utf-8"))
    return [(name, (directory / name).read_bytes(), plate) for name, plate in sorted(labels.items())]


def test_the_engine_loads_and_reads_offline(reader) -> None:
    for _, data, _ in labelled(DATA / "crops")[:10]:
        reader.read(data)
    assert reader._offline_connections == []
    assert not (Path.home() / ".EasyOCR" / "model" / "korean_g2.pth").exists()


def test_held_out_crops(reader, settings) -> None:
    results = [(plate, reader.read(data)) for _, data, plate in labelled(DATA / "crops")]
    exact = sum(expected == read.text for expected, read in results) / len(results)
    assert exact >= MIN_CROP_EXACT, results
    # Calibrated: what passes the review threshold is right (at most one slip in 140).
    unreviewed_misreads = [
        (expected, read)
        for expected, read in results
        if read.text and read.text != expected and read.confidence >= settings.OCR_REVIEW_CONFIDENCE
    ]
    assert len(unreviewed_misreads) <= 1, unreviewed_misreads


def test_full_snapshots_are_localised_and_read(reader) -> None:
    results = []
    for _, data, plate in labelled(DATA / "scenes"):
        read = reader.read(data)
        results.append((plate, read.text, read.bbox))
    exact = sum(expected == got for expected, got, _ in results) / len(results)
    assert exact >= MIN_SCENE_EXACT, results
    assert all(bbox is not None for expected, got, bbox in results if got)


def test_an_edge_box_leads_to_the_plate(reader) -> None:
    _, data, _ = labelled(DATA / "crops")[0]
    crop = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    canvas = np.full((720, 1280), 90, np.uint8)
    canvas[300 : 300 + crop.shape[0], 500 : 500 + crop.shape[1]] = crop
    _, encoded = cv2.imencode(".png", canvas)
    box = (500, 300, crop.shape[1], crop.shape[0])
    alone = reader.read(data)
    hinted = reader.read(encoded.tobytes(), plate_bbox=box)
    if alone.text:  # read where the edge said, as the crop itself is
        assert hinted.text == alone.text
        x, y, w, h = hinted.bbox
        assert box[0] <= x + w / 2 <= box[0] + box[2] and box[1] <= y + h / 2 <= box[1] + box[3]


def test_a_wider_model_votes_with_a_narrow_one(settings, tmp_path: Path) -> None:
    """EasyOCR imports the network module once for every model, but builds each at the width
    its own yaml names. A model widened from the shipped one reads exactly as it does, so an
    engine of the two reads as an engine of the shipped model twice."""
    from backend.ocr.plate_model.train import MODELS_DIR, build_network, saved_state, write_model_files
    from backend.ocr.plate_model.widen import widen_state

    wide = build_network(96)
    wide.load_state_dict(widen_state(saved_state(MODELS_DIR), wide.state_dict()))
    write_model_files(wide, tmp_path, 96)
    settings.OCR_MOCK = False
    settings.OCR_MODEL_DIRS = (MODELS_DIR, MODELS_DIR)
    twice = build_plate_reader(warm_up=False)
    settings.OCR_MODEL_DIRS = (MODELS_DIR, tmp_path)
    with_wide = build_plate_reader(warm_up=False)
    for _, data, _ in labelled(DATA / "crops")[:5]:
        expected, read = twice.read(data), with_wide.read(data)
        assert (read.text, read.confidence) == (expected.text, pytest.approx(expected.confidence, abs=1e-4))


@pytest.mark.django_db(databases="__all__")
def test_read_plate_and_ocr_eval_commands() -> None:
    from django.db import connections

    # read_plate decides as the worker does, against the (test) vehicle registry.
    databases = {DB_NAME_VARIABLES[alias]: connections[alias].settings_dict["NAME"] for alias in DB_NAME_VARIABLES}
    # Any attempt to reach the internet would go to a closed port.
    env = {
        **os.environ,
        **databases,
        "OCR_MOCK": "false",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    env_args = {"cwd": REPO_ROOT, "capture_output": True, "text": True, "timeout": 300, "env": env}
    images = sorted((DATA / "scenes").glob("*.jpg"))[:2]
    result = subprocess.run(
        [sys.executable, "manage.py", "read_plate", "--json", *map(str, images)], check=True, **env_args
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(path) for path in images]
    assert all(
        set(line) == {"file", "plate", "confidence", "bbox", "ms", "needs_review", "review_reason"} for line in lines
    )
    assert all(line["needs_review"] == (line["review_reason"] is not None) for line in lines)
    result = subprocess.run(
        [sys.executable, "manage.py", "ocr_eval", str(DATA / "crops"), "--json"], check=True, **env_args
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["images"] == 140 and 0 <= report["exact_match"] <= report["character_accuracy"] <= 1
    assert set(report["latency_ms"]) == {"p50", "p95", "p99", "mean"}
    assert set(report["groups"]) == {f"{layout} crops" for layout in LAYOUTS} | {"font crops"}
    assert [row["threshold"] for row in report["thresholds"]][:3] == [0.0, 0.3, 0.5]
    assert 0 <= report["suggested_review_confidence"] <= 0.99
