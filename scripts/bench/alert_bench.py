"""Driver of scripts/bench/alert (run through that script: it starts the services)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import django

django.setup()

from kombu import Connection

from backend.config.celery import app
from backend.detections.models import Detection
from backend.messaging.dispatch import dispatch_alert
from backend.messaging.topology import FCM_QUEUE, declare_topology
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from harness import profiling, workload
from harness.processes import endpoint_ready
from harness.services import FcmEmulator, free_port

FCM = FcmEmulator(os.environ["FCM_ENDPOINT"])


def prepare(count: int) -> list[Detection]:
    workload.empty_tables()
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            plate_number=f"{10 + i // 10000}가{i % 10000:04d}", owner_name="벤치", fcm_token=f"bench-{uuid.uuid4().hex}"
        )
        for i in range(count)
    )
    now = datetime.now(UTC)
    return Detection.objects.bulk_create(
        Detection(
            event_id=str(uuid.uuid4()),
            vehicle_id=vehicle.pk,
            detected_speed=90.0,
            speed_limit=60.0,
            location="벤치마크 도로",
            camera_id="bench",
            image_gcs_uri="gs://b/o.jpg",
            image_sha256="0" * 64,
            detected_at=now,
            status="completed",
            ocr_result=vehicle.plate_number,
            ocr_confidence=0.99,
        )
        for vehicle in vehicles
    )


def wait_for_pushes(count: int, processes: list[subprocess.Popen], log_path: Path) -> dict:
    """Poll the emulator's counts (cheap) until `count` pushes arrived; stop the senders
    and give up if one of them dies or time runs out."""
    deadline = time.monotonic() + max(120, count / 20)
    while (summary := FCM.summary())["accepted"] < count:
        if time.monotonic() > deadline or any(process.poll() not in (None, 0) for process in processes):
            stop(processes)
            raise SystemExit(f"only {summary['accepted']}/{count} pushes arrived; see {log_path}")
        time.sleep(0.05)
    return summary


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, 15)
    for process in processes:
        process.wait(30)


def measure(
    count: int, senders: list[subprocess.Popen], log_path: Path, profile_to: Path | None, profile_format: str
) -> dict:
    """From the first accepted push (start-up left out) to the last: the rate, the CPU each
    process group used per push, and how busy the whole machine was."""
    first = wait_for_pushes(1, senders, log_path)["accepted"]
    groups = {
        "senders": lambda session, _: session in {sender.pid for sender in senders},
        **profiling.SERVICES,
    }
    cpu_before, busy_before, started = profiling.cpu_seconds(groups), profiling.machine_busy_seconds(), time.monotonic()
    profilers = [  # until the sender stops: py-spy then writes what it sampled
        profiling.record(
            sender.pid,
            profile_to.with_suffix(f".{index}.{profiling.SUFFIX[profile_format]}"),
            seconds=3600,
            output_format=profile_format,
        )
        for index, sender in enumerate(senders)
        if profile_to
    ]
    summary = wait_for_pushes(count, senders, log_path)
    cpu_after, busy_after, wall = (
        profiling.cpu_seconds(groups),
        profiling.machine_busy_seconds(),
        time.monotonic() - started,
    )
    stop(senders)
    for profiler in profilers:
        profiler.wait(timeout=120)
    elapsed = summary["last_received_at"] - summary["first_received_at"]
    pushes = summary["accepted"] - first
    return {
        "rate": (count - 1) / elapsed,
        "seconds": elapsed,
        "max_in_flight": summary["max_in_flight"],
        "duplicates": summary["accepted"] - summary["distinct_tokens"],
        "cpu_ms_per_push": {name: round((cpu_after[name] - cpu_before[name]) * 1000 / pushes, 2) for name in groups},
        "sender_cores": round((cpu_after["senders"] - cpu_before["senders"]) / wall, 2),
        "machine_busy": round((busy_after - busy_before) / wall / os.cpu_count(), 3),
    }


def sdk_ceiling(count: int, concurrency: int, latency_ms: float, processes: int) -> dict:
    """Bare firebase-admin sends, `processes` x `concurrency` greenlets: what the SDK itself
    reaches on this machine against the same endpoint."""
    FCM.reset()
    FCM.configure(latency_ms=latency_ms)
    log_path = REPO_ROOT / f".state/bench/fcm-sdk-ceiling-{processes}x{concurrency}.log"
    with open(log_path, "w") as log:
        senders = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(REPO_ROOT / "scripts/bench/fcm_sdk_ceiling.py"),
                    f"--count={count // processes + (index < count % processes)}",
                    f"--concurrency={concurrency}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for index in range(processes)
        ]
        return measure(count, senders, log_path, None, "raw")


def start_alert_worker(log: IO[str], concurrency: int, name: str, **env: str) -> subprocess.Popen:
    """An alert worker from its entry script, in a session of its own, its output into `log`."""
    return subprocess.Popen(
        [str(REPO_ROOT / "scripts/start_alert_worker.sh")],
        env={**os.environ, "ALERT_CONCURRENCY": str(concurrency), "ALERT_WORKER_NAME": name, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def celery_floor(count: int, concurrency: int, processes: int) -> dict:
    """Celery's own share of a push: the same workers (pool, greenlets, prefetch, acks,
    events, logs) running Celery's built-in `celery.accumulate`, which does nothing, with
    no result stored. Its CPU per task is what any task costs this worker before the
    claim, the push and the record."""
    with Connection(os.environ["CELERY_BROKER_URL"]) as broker:
        declare_topology(broker)
        broker.default_channel.queue_purge(FCM_QUEUE.name)
        ports = [free_port() for _ in range(processes)]
        log_path = REPO_ROOT / f".state/bench/alert-worker-celery-floor-{processes}x{concurrency}.log"
        with open(log_path, "w") as log:
            workers = [
                start_alert_worker(log, concurrency, f"bench-floor-{port}@%h", ALERT_METRICS_PORT=str(port))
                for port in ports
            ]
            try:
                deadline = time.monotonic() + 120
                while not all(endpoint_ready(f"http://127.0.0.1:{port}/ready") for port in ports):
                    if time.monotonic() > deadline or any(worker.poll() is not None for worker in workers):
                        raise SystemExit(f"the Celery floor's workers did not start; see {log_path}")
                    time.sleep(0.2)
                groups = {"workers": lambda session, _: session in {worker.pid for worker in workers}}
                cpu_before, started = profiling.cpu_seconds(groups)["workers"], time.monotonic()
                producer = app.amqp.Producer(broker.default_channel, auto_declare=False)
                for index in range(count):
                    app.send_task(
                        "celery.accumulate", args=(index,), queue=FCM_QUEUE, producer=producer, ignore_result=True
                    )
                channel = broker.default_channel
                while channel.queue_declare(FCM_QUEUE.name, passive=True).message_count:
                    time.sleep(0.02)
                drained = time.monotonic() - started
                # The last prefetched tasks run after the queue is empty: wait until the workers idle.
                used = profiling.cpu_seconds(groups)["workers"]
                while True:
                    time.sleep(0.3)
                    now = profiling.cpu_seconds(groups)["workers"]
                    if now - used < 0.01 * processes:
                        break
                    used = now
            finally:
                stop(workers)
    return {"cpu_ms_per_task": round((used - cpu_before) * 1000 / count, 2), "tasks_per_s": round(count / drained, 1)}


def run(
    count: int,
    concurrency: int,
    latency_ms: float,
    processes: int,
    profile_dir: Path | None = None,
    profile_format: str = "flamegraph",
) -> dict:
    """`processes` gevent workers with `concurrency` greenlets each, against a full queue,
    next to the SDK's ceiling with the same greenlets."""
    sdk = sdk_ceiling(count, concurrency, latency_ms, processes)
    floor = celery_floor(count, concurrency, processes)
    with Connection(os.environ["CELERY_BROKER_URL"]) as broker:
        declare_topology(broker)
        broker.default_channel.queue_purge(FCM_QUEUE.name)
    detections = prepare(count)
    FCM.reset()
    FCM.configure(latency_ms=latency_ms)
    for detection in detections:  # the queue is full before the workers start
        dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    log_path = REPO_ROOT / f".state/bench/alert-worker-{processes}x{concurrency}.log"
    with open(log_path, "w") as log:
        workers = [
            start_alert_worker(log, concurrency, f"bench-alert-{index}-{concurrency}@%h") for index in range(processes)
        ]
        profile_to = profile_dir / f"alert-worker-{processes}x{concurrency}" if profile_dir else None
        worker = measure(count, workers, log_path, profile_to, profile_format)
    return {
        "processes": processes,
        "concurrency": concurrency,
        "count": count,
        "latency_ms": latency_ms,
        "seconds": round(worker["seconds"], 2),
        "sends_per_s": round(worker["rate"], 1),
        "sdk_sends_per_s": round(sdk["rate"], 1),
        "ratio_to_sdk": round(worker["rate"] / sdk["rate"], 3),
        "ideal_per_s": round(processes * concurrency / (latency_ms / 1000), 1),
        "max_in_flight": worker["max_in_flight"],
        "sdk_max_in_flight": sdk["max_in_flight"],
        "worker_cpu_ms_per_push": worker["cpu_ms_per_push"],
        "sdk_cpu_ms_per_push": sdk["cpu_ms_per_push"],
        "celery_floor_cpu_ms_per_task": floor["cpu_ms_per_task"],
        "celery_floor_tasks_per_s": floor["tasks_per_s"],
        "worker_cores": worker["sender_cores"],
        "sdk_cores": sdk["sender_cores"],
        "machine_busy": worker["machine_busy"],
        "sdk_machine_busy": sdk["machine_busy"],
        "notifications_sent": Notification.objects.filter(status="sent").count(),
        "duplicate_pushes": worker["duplicates"],
    }


GOAL_RATIO_TO_SDK = 0.7


def verdict(result: dict, latency_ms: float) -> str:
    """Whether a cell meets the goal; if not, the measured reason."""
    ratio = result["ratio_to_sdk"]
    if ratio >= GOAL_RATIO_TO_SDK:
        return f"goal met ({ratio:.0%} of the SDK)"
    processes, goal = result["processes"], GOAL_RATIO_TO_SDK * result["sdk_sends_per_s"]
    celery_ms, sdk_ms = result["celery_floor_cpu_ms_per_task"], result["sdk_cpu_ms_per_push"]["senders"]
    # A process runs on one core at most (one thread under gevent), and the machine has so many.
    cores = min(processes, os.cpu_count() or 1)
    most = cores * 1000 / (celery_ms + sdk_ms)
    if most < goal:
        return (
            f"goal not met ({ratio:.0%}), and it cannot be here: Celery's own CPU per task (a task that does "
            f"nothing, same worker) {celery_ms:.2f} ms + the SDK's send {sdk_ms:.2f} ms = {celery_ms + sdk_ms:.2f} ms "
            f"per push before any claim or record, so {cores} core(s) reach at most {most:.0f}/s; the goal needs "
            f"{goal:.0f}/s"
        )
    cycle_ms = result["concurrency"] * processes * 1000 / result["sends_per_s"]
    own_ms = result["worker_cpu_ms_per_push"]["senders"]
    return (
        f"goal not met ({ratio:.0%}; Celery + SDK would allow up to {most:.0f}/s, the goal needs {goal:.0f}/s): "
        f"a greenlet takes {cycle_ms:.0f} ms per push, of which {latency_ms:.0f} ms is FCM's; the rest is the "
        f"task's {own_ms:.1f} ms of CPU and its turns on its process's one thread, "
        f"{result['worker_cores'] / processes:.0%} busy (see docs/perf)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", default="10,100", help="greenlets per worker, e.g. 10,100")
    parser.add_argument("--processes", default="1", help="worker processes, e.g. 1,2")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true", help="leave the bench services running")
    parser.add_argument("--profile", metavar="DIR", type=Path, help="py-spy flame graphs of the workers' CPU into DIR")
    parser.add_argument("--profile-format", default="flamegraph", choices=sorted(profiling.SUFFIX))
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    results = [
        run(args.count, int(c), args.latency_ms, int(p), args.profile, args.profile_format)
        for p in args.processes.split(",")
        for c in args.concurrency.split(",")
    ]
    header = (
        "processes",
        "greenlets",
        "worker/s",
        "SDK/s",
        "to SDK",
        "in flight",
        "SDK in flight",
        "worker CPU/push",
        "SDK CPU/push",
        "Celery CPU/task",
        "worker cores",
        "machine busy",
        "dupes",
    )
    rows = [
        (
            r["processes"],
            r["concurrency"],
            r["sends_per_s"],
            r["sdk_sends_per_s"],
            f"{r['ratio_to_sdk']:.0%}",
            r["max_in_flight"],
            r["sdk_max_in_flight"],
            f"{r['worker_cpu_ms_per_push']['senders']:.2f} ms",
            f"{r['sdk_cpu_ms_per_push']['senders']:.2f} ms",
            f"{r['celery_floor_cpu_ms_per_task']:.2f} ms",
            f"{r['worker_cores']:.2f}",
            f"{r['machine_busy']:.0%}",
            r["duplicate_pushes"],
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    print(f"alert worker (gevent, firebase-admin) vs FCM emulator at {args.latency_ms:.0f} ms latency")
    print("SDK: bare firebase-admin messaging.send from the same greenlets; to SDK: goal >= 70 %")
    print("Celery CPU/task: the same worker running a task that does nothing (Celery's own share of a push)")
    for row in (header, *rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
    for r in results:
        print(f"  {r['processes']} x {r['concurrency']}: {verdict(r, args.latency_ms)}")
    print("CPU per push of the backing services, worker run (SDK run):")
    for r in results:
        services = ", ".join(
            f"{name} {r['worker_cpu_ms_per_push'][name]:.2f} ({r['sdk_cpu_ms_per_push'][name]:.2f}) ms"
            for name in profiling.SERVICES
        )
        print(f"  {r['processes']} x {r['concurrency']}: {services}")
    print(json.dumps({"benchmark": "alert", "date": datetime.now(UTC).date().isoformat(), "results": results}))


if __name__ == "__main__":
    main()
