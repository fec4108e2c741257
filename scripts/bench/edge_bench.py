"""Driver of scripts/bench/edge: the speed meter's frames per second on one core."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import cv2

from edge.camera_config import load_config
from edge.measure import SpeedMeter
from edge.sources import frames
from edge.synthetic import generate

CACHE = REPO_ROOT / ".state" / "bench" / "edge"


def scene(name: str) -> Path:
    out = CACHE / name
    if not (out / "road.mp4").exists():
        generate(out, name)
    return out


def timed(config_path: Path, *, with_meter: bool) -> tuple[int, float, int]:
    """(frames, seconds, outcomes): decoding alone, or decoding and measuring."""
    config = load_config(config_path)
    meter = SpeedMeter(config, keep_snapshots=True) if with_meter else None
    count = outcomes = 0
    started = time.perf_counter()
    for frame in frames(config.capture):
        count += 1
        if meter is not None:
            outcomes += len(meter.process(frame))
    if meter is not None:
        outcomes += len(meter.flush())
    return count, time.perf_counter() - started, outcomes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", default="roadside,dusk")
    parser.add_argument("--core", type=int, default=0, help="the CPU the benchmark is pinned to")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})  # one core, as the goal says
    cv2.setNumThreads(1)
    rows = []
    for name in args.scenes.split(","):
        out = scene(name)
        fps = load_config(out / "cam.yaml").capture.fps
        _, decode_s, _ = timed(out / "cam.yaml", with_meter=False)
        count, total_s, outcomes = timed(out / "cam.yaml", with_meter=True)
        measure_s = max(total_s - decode_s, 1e-9)  # a Pi's camera hands over raw frames: no decoding
        rows.append(
            {
                "scene": name,
                "frames": count,
                "video_fps": fps,
                "meter_fps": round(count / measure_s, 1),
                "with_decoding_fps": round(count / total_s, 1),
                "x_real_time": round(count / measure_s / fps, 2),
                "outcomes": outcomes,
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'scene':12} {'frames':>6} {'video fps':>9} {'meter fps':>9} {'+decode':>8} {'x real time':>11}")
    for row in rows:
        print(
            f"{row['scene']:12} {row['frames']:6} {row['video_fps']:9g} {row['meter_fps']:9.1f} "
            f"{row['with_decoding_fps']:8.1f} {row['x_real_time']:11.2f}"
        )
    print(f"one core (cpu {args.core}), OpenCV threads 1, processing width 640, peak RSS {peak_mb:.0f} MB")
    worst = min(row["x_real_time"] for row in rows)
    figures = {"scenes": rows, "min_x_real_time": worst, "goal_x_real_time": 2.0, "peak_rss_mb": round(peak_mb)}
    print(json.dumps({"bench": "edge", **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
