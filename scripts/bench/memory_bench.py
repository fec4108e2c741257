"""Driver of scripts/bench/memory (run it through that script: it starts the services).

1. Every role running as deployed (the real OCR engine): RSS, PSS and private memory of
   each process. RSS counts the pages a prefork child shares with its parent once per
   process; PSS splits them; private is what the process alone holds.
2. Where an OCR child's memory goes: the same engine built step by step in a fresh
   process (`--stages`), its RSS after each step, and the model's own size.
3. What the allocator and torch's threads change in a child after many reads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from harness import profiling

LOG_DIR = REPO_ROOT / ".state" / "bench" / "logs"
SCENES = REPO_ROOT / "tests/ocr/data/scenes"


def roles_memory(overrides: dict[str, str]) -> dict[str, list[dict[str, float]]]:
    """Each role's processes (main first), once every role is ready and the OCR children
    have built and warmed their engines."""
    from harness.processes import Roles

    roles = Roles.from_environment(LOG_DIR, {"OCR_MOCK": "false", "LOG_LEVEL": "INFO", **overrides})
    roles.start()
    try:
        time.sleep(5)  # the OCR children build their engine in worker_process_init
        return {
            role.name: [profiling.memory_mib(pid) for pid in profiling.session_pids(role.process.pid)]
            for role in roles.all
            if role.process is not None
        }
    finally:
        roles.stop()


def stages() -> None:
    """In this fresh process: RSS after each step of building and using the OCR engine."""
    import resource

    def rss() -> float:
        return profiling.memory_mib(os.getpid())["rss"]

    os.environ["SPEEDCAM_ROLE"] = "ocr"
    import django

    django.setup()
    steps = [("python + Django settings", rss())]
    from backend.ocr import readers, tasks  # noqa: F401  (what the parent process imports too)

    steps.append(("+ the OCR role's modules (cv2, numpy, GCS)", rss()))
    import torch

    steps.append(("+ import torch", rss()))
    import easyocr  # noqa: F401

    steps.append(("+ import easyocr", rss()))
    engine = readers.build_plate_reader(warm_up=False)
    steps.append(("+ the plate models built", rss()))
    snapshots = sorted(SCENES.glob("*.jpg"))
    for path in snapshots:
        engine.read(path.read_bytes())
    steps.append((f"+ {len(snapshots)} reads of 1280x720 snapshots", rss()))
    for _ in range(3):
        for path in snapshots:
            engine.read(path.read_bytes())
    steps.append((f"+ {3 * len(snapshots)} more reads", rss()))
    networks = [
        module
        for recogniser in engine.recognisers
        for module in vars(recogniser.reader).values()
        if isinstance(module, torch.nn.Module)
    ]
    parameters = sum(p.numel() * p.element_size() for net in networks for p in net.parameters())
    print(
        json.dumps(
            {
                "steps": steps,
                "model_parameters_mib": parameters / 2**20,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "torch_threads": torch.get_num_threads(),
            }
        )
    )


def staged(env: dict[str, str]) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--stages"],
        env={**os.environ, "OCR_MOCK": "false", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description="SpeedCam memory per role")
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.stages:
        stages()
        return 0
    import django

    django.setup()
    from django.conf import settings

    today = f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs"
    print(f"\nmemory per role as deployed (real OCR engine, OCR_CONCURRENCY={settings.OCR_CONCURRENCY}), {today}")
    deployed = roles_memory({})
    print(f"{'role':20} {'process':>8} {'RSS MiB':>8} {'PSS MiB':>8} {'private MiB':>12}")
    for role, processes in deployed.items():
        for index, figures in enumerate(processes):
            label = "main" if index == 0 else f"child {index}"
            print(f"{role:20} {label:>8} {figures['rss']:8.0f} {figures['pss']:8.0f} {figures['private']:12.0f}")
    total_pss = sum(figures["pss"] for processes in deployed.values() for figures in processes)
    print(f"{'all roles':20} {'':>8} {'':>8} {total_pss:8.0f}")

    model_files = [Path(directory) / "model" / "plate_ko.pth" for directory in settings.OCR_MODEL_DIRS]
    model_bytes = sum(path.stat().st_size for path in model_files)
    default = staged({})
    print("\nwhere an OCR child's memory goes (RSS after each step, a fresh process):")
    previous = 0.0
    for step, value in default["steps"]:
        print(f"  {step:45} {value:7.0f} MiB  (+{value - previous:.0f})")
        previous = value
    print(
        f"  the models themselves: {default['model_parameters_mib']:.1f} MiB of parameters "
        f"({model_bytes / 2**20:.1f} MiB on disk); the rest is the runtime"
    )

    variants = {
        "as shipped": {},
        "glibc MALLOC_ARENA_MAX=2": {"MALLOC_ARENA_MAX": "2"},
        "torch threads 1": {"OCR_TORCH_THREADS": "1"},
    }
    results = {"as shipped": default, **{name: staged(env) for name, env in variants.items() if env}}
    print("\nafter all reads, by setting:")
    for name, result in results.items():
        print(f"  {name:28} RSS {result['steps'][-1][1]:5.0f} MiB, peak {result['peak_rss_mib']:5.0f} MiB")
    print(
        json.dumps(
            {
                "bench": "memory",
                "date": datetime.now(UTC).date().isoformat(),
                "roles": {
                    role: [{key: round(value) for key, value in figures.items()} for figures in processes]
                    for role, processes in deployed.items()
                },
                "total_pss_mib": round(total_pss),
                "ocr_child_steps_mib": {step: round(value) for step, value in default["steps"]},
                "ocr_model_parameters_mib": round(default["model_parameters_mib"], 2),
                "ocr_child_after_reads_mib": {name: round(r["steps"][-1][1]) for name, r in results.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
