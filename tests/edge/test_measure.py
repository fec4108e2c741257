"""`python -m edge measure` on rendered road videos whose true speeds are known.

The generator (edge/synthetic.py, `python -m edge synth`) renders a calibrated camera,
vehicles of known speed, direction and plate in two lanes, sensor noise and drifting
light, and writes the camera configuration that matches it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.measure import find_plate
from edge.synthetic import PinholeCamera, Vehicle, draw_vehicle, generate, render_background
from tests.support.services import REPO_ROOT

SCENARIOS = {
    "8 vehicles at 30 fps": {"vehicles": 8, "seed": 7, "fps": 30.0},
    "8 at 25 fps": {"vehicles": 8, "seed": 3, "fps": 25.0},
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def scene(request, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("road")
    truth = generate(out, **SCENARIOS[request.param])
    return out, truth


def measure(out: Path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "edge", "measure", "--config", str(out / "cam.yaml"), "--progress-every", "100"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "vehicles measured" in result.stderr and "frame 100" in result.stderr  # progress on long runs
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_vehicle_is_measured_within_3_percent_and_nothing_else(scene) -> None:
    out, truth = scene
    measured = measure(out)
    vehicles = truth["vehicles"]
    assert len(measured) == len(vehicles), (measured, vehicles)  # no phantoms, none missed
    errors = []
    unmatched = list(measured)
    for vehicle in vehicles:
        # The measurement of this vehicle: same direction, inside its frames on screen.
        candidates = [
            m
            for m in unmatched
            if m["direction"] == vehicle["direction"]
            and vehicle["enter_frame"] <= m["first_frame"] <= m["last_frame"] <= vehicle["exit_frame"]
        ]
        assert len(candidates) == 1, (vehicle, measured)
        unmatched.remove(candidates[0])
        errors.append(abs(candidates[0]["speed_kmh"] - vehicle["speed_kmh"]) / vehicle["speed_kmh"])
        assert candidates[0]["over_limit"] == (candidates[0]["speed_kmh"] > 80)
    assert sum(errors) / len(errors) <= 0.03, errors
    assert max(errors) <= 0.05, errors


def test_the_generator_runs_from_the_command_line(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "edge", "synth", "--out", str(tmp_path), "--vehicles", "2", "--seed", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    truth = json.loads((tmp_path / "truth.json").read_text("utf-8"))
    assert [v["direction"] for v in truth["vehicles"]] == ["away", "towards"]
    assert (tmp_path / "road.mp4").stat().st_size > 10_000 and (tmp_path / "cam.yaml").exists()


def test_the_plate_is_found_in_a_near_vehicle() -> None:
    camera = PinholeCamera()
    frame = render_background(camera, np.random.default_rng(1))
    vehicle = Vehicle(
        id=1,
        plate="12가3456",
        speed_kmh=90,
        direction="towards",
        lane_x_m=-1.8,
        start_s=0,
        end_s=10,
        colour=(40, 40, 200),
        start_y_m=14.0,
    )
    assert draw_vehicle(frame, camera, vehicle, 0.0)
    corners, _ = camera.project(vehicle.box(0.0))
    x, y = corners.min(axis=0).astype(int)
    x1, y1 = corners.max(axis=0).astype(int)
    plate = find_plate(frame, (int(x), int(y), int(x1 - x), int(y1 - y)))
    assert plate is not None
    near = vehicle.near_edge_y(0.0)
    expected, _ = camera.project(np.array([[-2.06, near, 0.40], [-1.54, near, 0.51]]))
    px, py, pw, ph = plate
    assert abs(px - expected[:, 0].min()) <= 3 and abs(px + pw - expected[:, 0].max()) <= 3
    assert abs(py - expected[:, 1].min()) <= 3 and abs(py + ph - expected[:, 1].max()) <= 3


def test_no_plate_is_invented_on_a_plain_box() -> None:
    frame = np.full((200, 300, 3), 90, np.uint8)
    frame[50:150, 100:200] = (40, 40, 200)
    assert find_plate(frame, (100, 50, 100, 100)) is None
