"""`python -m edge measure` on rendered road videos whose true speeds are known.

The generator (edge/synthetic.py, `python -m edge synth`) renders every scene in
`SCENARIOS`: a camera above the centre line and roadside poses (offset, pitch, yaw, roll),
2-4 lanes, cars, SUVs and trucks, sun shadows, shake, dusk with lamps, night, vehicles
crossing in the image and a vehicle entering where another left, at 24-60 fps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from edge.measure import find_plate
from edge.synthetic import SCENARIOS, PinholeCamera, Vehicle, compare, draw_vehicle, render_background
from harness.services import REPO_ROOT

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh

SCENES = list(SCENARIOS)


def measure(out: Path, *extra: str) -> tuple[list[dict], str]:
    result = subprocess.run(
        [sys.executable, "-m", "edge", "measure", "--config", str(out / "cam.yaml"), "--progress-every", "100", *extra],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def render_and_measure(out: Path, name: str) -> tuple[dict, list[dict], str, Path]:
    subprocess.run(
        [sys.executable, "-m", "edge", "synth", "--out", str(out), "--scenario", name],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=300,
        check=True,
    )
    truth = json.loads((out / "truth.json").read_text("utf-8"))
    outcomes, stderr = measure(out)
    return truth, outcomes, stderr, out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every scene rendered and measured once, on first use: two at a time, in their own
    processes, since rendering and measuring each keep one CPU busy."""
    root = tmp_path_factory.mktemp("roads")

    @cache
    def all_scenes() -> dict[str, tuple[dict, list[dict], str, Path]]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(render_and_measure, root / name, name) for name in SCENES}
            return {name: future.result() for name, future in futures.items()}

    return lambda name: all_scenes()[name]


@pytest.mark.parametrize("name", SCENES)
def test_every_vehicle_is_measured_or_reported_with_a_reason(results, name: str) -> None:
    truth, outcomes, stderr, _ = results(name)
    assert "frame 100" in stderr and "done:" in stderr  # progress on long runs, and a summary
    report = compare(truth, outcomes)
    assert not report["phantoms"], report["phantoms"]  # nothing reported that was not there
    assert not report["doubles"], report["doubles"]  # no vehicle reported twice (a track split in two)
    for row in report["rows"]:
        outcome = row["outcome"]
        assert outcome is not None, f"vehicle {row['vehicle']} left no trace: {outcomes}"
        if not outcome["measured"]:
            assert outcome["reason"] and outcome["detail"], outcome


@pytest.mark.parametrize("name", SCENES)
def test_no_speed_is_published_above_the_truth(results, name: str) -> None:
    truth, outcomes, _, _ = results(name)
    for row in compare(truth, outcomes)["rows"]:
        outcome, true_speed = row["outcome"], row["vehicle"]["speed_kmh"]
        if not (outcome and outcome["measured"]):
            continue
        # The scenes' cameras deduct no tolerance: what is left is the uncertainty, and the
        # truth lies above speed - uncertainty.
        assert outcome["tolerance_kmh"] == 0
        assert outcome["enforceable_kmh"] <= true_speed * 1.01, (row["vehicle"], outcome)
        assert abs(row["error"]) <= 0.05, (row["vehicle"], outcome)
        assert outcome["over_limit"] == (outcome["enforceable_kmh"] > 80)


def test_across_all_scenes_the_error_is_small_and_most_vehicles_are_measured(results) -> None:
    rows = [row for name in SCENES for row in compare(*results(name)[:2])["rows"]]
    errors = [abs(row["error"]) for row in rows if row["error"] is not None]
    assert sum(errors) / len(errors) <= 0.02, errors
    visible = [row for row in rows if not (row["outcome"] or {}).get("blind")]
    assert len(errors) >= 0.85 * len(visible), [row["outcome"] for row in visible if row["error"] is None]


def test_at_night_the_unit_says_it_cannot_measure(results) -> None:
    _, outcomes, stderr, _ = results("night")
    assert not any(outcome["measured"] for outcome in outcomes)
    assert [outcome["reason"] for outcome in outcomes if outcome.get("blind")] == ["too_dark"]
    assert "too dark to measure" in stderr


def test_at_dusk_vehicles_are_measured_by_their_lamps_with_a_wider_uncertainty(results) -> None:
    _, dusk, _, _ = results("dusk")
    _, day, _, _ = results("roadside")
    lamps = [outcome for outcome in dusk if outcome["measured"]]
    assert lamps and all(outcome["method"] == "lamps" for outcome in lamps)
    relative = np.median([o["uncertainty_kmh"] / o["speed_kmh"] for o in lamps])
    daylight = np.median([o["uncertainty_kmh"] / o["speed_kmh"] for o in day if o["measured"]])
    assert relative > 3 * daylight


def test_the_annotated_video_and_a_picture_per_vehicle(results, tmp_path: Path) -> None:
    _, _, _, out = results("crossing")
    outcomes, _ = measure(out, "--annotate", str(tmp_path / "seen"))
    assert (tmp_path / "seen" / "annotated.mp4").stat().st_size > 10_000
    pictures = sorted(path.name for path in (tmp_path / "seen").glob("vehicle-*.png"))
    assert pictures == sorted(f"vehicle-{outcome['track_id']}.png" for outcome in outcomes)


def test_the_generator_runs_from_the_command_line(tmp_path: Path) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "edge", "synth", "--list"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert all(name in listing.stdout for name in SCENARIOS)
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
