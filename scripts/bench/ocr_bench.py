"""Driver of scripts/bench/ocr (run it through that script: it starts the services)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import django

django.setup()

from backend.ocr import engine
from backend.ocr.readers import build_plate_reader
from harness import profiling
from harness.processes import Roles, wait_for

LOG_DIR = REPO_ROOT / ".state" / "bench" / "logs"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def worker_rss() -> tuple[float, float]:
    """(parent, child) RSS of a real OCR worker with one prefork child, once it is ready."""
    roles = Roles.from_environment(
        LOG_DIR, {"OCR_CONCURRENCY": "1", "OCR_METRICS_PORT": "0", "LOG_LEVEL": "INFO"}, periodic_jobs=False
    )
    roles.start((roles.ocr,))
    try:
        # The start script execs celery: its pid is the worker's main process.
        parent = roles.ocr.process.pid
        child = wait_for(lambda: profiling.children(parent), timeout=60, what="the prefork child")[0]
        time.sleep(3)  # the child loads and warms its engine in worker_process_init
        return profiling.memory_mib(parent)["rss"], profiling.memory_mib(child)["rss"]
    finally:
        roles.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="SpeedCam OCR latency and memory")
    parser.add_argument("--images", type=Path, default=REPO_ROOT / "tests/ocr/data/scenes")
    parser.add_argument("--naive", type=int, default=8, help="images read the naive way (a Reader each)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    labels = json.loads((args.images / "labels.json").read_text("utf-8"))
    images = [(name, (args.images / name).read_bytes()) for name in sorted(labels)]

    started = time.perf_counter()
    reader = engine.load()
    cold_s = time.perf_counter() - started
    for _, data in images:  # first pass: caches and allocator warm
        reader.read(data)
    warm_ms, correct = [], 0
    for name, data in images:
        t0 = time.perf_counter()
        read = reader.read(data)
        warm_ms.append((time.perf_counter() - t0) * 1000)
        correct += read.text == labels[name]

    naive_ms = []
    for _, data in images[: args.naive]:
        t0 = time.perf_counter()
        build_plate_reader(warm_up=False).read(data)  # what a task pays without a per-process engine
        naive_ms.append((time.perf_counter() - t0) * 1000)

    parent_mb, child_mb = worker_rss()
    worker_mean, naive_mean = statistics.fmean(warm_ms), statistics.fmean(naive_ms)
    # The speed-up compares the same images: the naive path reads only the first few.
    speedup = naive_mean / statistics.fmean(warm_ms[: len(naive_ms)])
    print(f"\nOCR, {len(images)} snapshots of 1280x720, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs")
    print(f"{'path':34} {'mean ms':>8} {'p50':>7} {'p95':>7}")
    for name, values in (("worker (engine built once)", warm_ms), ("naive (a new Reader per image)", naive_ms)):
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{name:34} {statistics.fmean(values):8.1f} {p50:7.1f} {p95:7.1f}")
    print(
        f"speed-up {speedup:.1f}x on the same {len(naive_ms)} images; engine build {cold_s:.2f} s; "
        f"exact reads {correct}/{len(images)}"
    )
    print(f"RSS of one OCR worker: child (engine) {child_mb:.0f} MB, parent {parent_mb:.0f} MB")
    print(
        json.dumps(
            {
                "bench": "ocr",
                "images": len(images),
                "worker_ms_mean": round(worker_mean, 1),
                "worker_ms_p95": round(percentile(warm_ms, 0.95), 1),
                "naive_ms_mean": round(naive_mean, 1),
                "speedup": round(speedup, 2),
                "engine_build_s": round(cold_s, 2),
                "exact": round(correct / len(images), 3),
                "worker_child_rss_mb": round(child_mb),
                "worker_parent_rss_mb": round(parent_mb),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
