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

import pytest

from edge.synthetic import generate
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
