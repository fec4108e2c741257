"""Driver of scripts/bench/e2e (run it through that script: it starts the services)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import django

django.setup()

import paho.mqtt.client as mqtt

from backend.contracts.events import detections_new_topic
from backend.detections.models import Detection
from harness import profiling, workload
from harness.processes import Roles
from harness.services import FcmEmulator, profile_shell

LOG_DIR = REPO_ROOT / ".state" / "bench" / "logs"
BASE_ENV = {
    "OCR_MOCK": "true",
    "FCM_MOCK": "false",
    "MQTT_CLIENT_ID": "speedcam-bench-subscriber",
    "INGEST_METRICS_PORT": "0",
    "OCR_METRICS_PORT": "0",
    "ALERT_METRICS_PORT": "0",
    "LOG_LEVEL": "INFO",  # as in production: a log line per state change is part of the cost
}
FCM = FcmEmulator(os.environ["FCM_ENDPOINT"])


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Publisher:
    def __init__(self) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-edge-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311
        )
        self.client.username_pw_set(os.environ["MQTT_USERNAME"], os.environ["MQTT_PASSWORD"])
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        connected = threading.Event()
        self.client.on_connect = lambda *args: connected.set()
        self.client.connect(os.environ["MQTT_HOST"], int(os.environ["MQTT_PORT"]))
        self.client.loop_start()
        assert connected.wait(10)

    def publish(self, events: list[dict], rate: float | None) -> dict[str, float]:
        """Publish at `rate` per second (None: as fast as possible); event_id -> wall time."""
        sent_at: dict[str, float] = {}
        infos = []
        started = time.monotonic()
        for index, event in enumerate(events):
            if rate:
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            sent_at[event["event_id"]] = time.time()
            infos.append(
                self.client.publish(
                    detections_new_topic(event["camera_id"]), json.dumps(event, ensure_ascii=False), qos=1
                )
            )
        for info in infos:
            info.wait_for_publish(timeout=60)
        return sent_at

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_pushes(expected: int, timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    while (accepted := FCM.summary()["accepted"]) < expected:  # the counts: cheap next to the roles
        if time.monotonic() > deadline:
            raise AssertionError(f"only {accepted} of {expected} pushes after {timeout} s")
        time.sleep(0.2)
    return FCM.state()["messages"]


def latencies(
    sent_at: dict[str, float], messages: list[dict]
) -> tuple[list[float], list[float], list[tuple[float, float]]]:
    """(publish -> stored by ingest, publish -> plate read) in ms, and (publish time,
    publish -> push accepted in ms) of each push."""
    detections = {
        d["id"]: d
        for d in Detection.objects.filter(event_id__in=sent_at).values("id", "event_id", "created_at", "processed_at")
    }
    to_stored = [(d["created_at"].timestamp() - sent_at[d["event_id"]]) * 1000 for d in detections.values()]
    to_read = [(d["processed_at"].timestamp() - sent_at[d["event_id"]]) * 1000 for d in detections.values()]
    pushes = []
    for message in messages:
        sent = sent_at[detections[int(message["message"]["data"]["detection_id"])]["event_id"]]
        pushes.append((sent, (message["received_at"] - sent) * 1000))
    return to_stored, to_read, pushes


PUSH_WINDOW_S = 10


def p99_by_window(pushes: list[tuple[float, float]]) -> list[float]:
    """The push p99 of each PUSH_WINDOW_S of publishing: a stall shows where it happened,
    a queue that keeps growing shows as a rising line."""
    started = min(sent for sent, _ in pushes)
    windows: dict[int, list[float]] = {}
    for sent, latency in pushes:
        windows.setdefault(int((sent - started) // PUSH_WINDOW_S), []).append(latency)
    return [round(percentile(windows[index], 0.99)) for index in sorted(windows)]


LATENCY_ROLES = {"OCR_CONCURRENCY": "2", "ALERT_CONCURRENCY": "50"}


def latency_at(rate: float, seconds: float, images: dict) -> dict:
    """Latency of `rate` detections per second for `seconds`, through the running roles."""
    workload.reset(registered_every=1)
    count = max(1, int(rate * seconds))
    publisher = Publisher()
    sent_at = publisher.publish(workload.events(count, images), rate=rate)
    messages = wait_pushes(count)
    publisher.close()
    to_stored, to_read, pushes = latencies(sent_at, messages)
    to_push = [latency for _, latency in pushes]
    return {
        "rate": rate,
        "count": count,
        "stored_p50_ms": round(percentile(to_stored, 0.5), 1),
        "stored_p99_ms": round(percentile(to_stored, 0.99), 1),
        "read_p50_ms": round(percentile(to_read, 0.5), 1),
        "read_p99_ms": round(percentile(to_read, 0.99), 1),
        **push_percentiles(to_push),
        "push_mean_ms": round(statistics.fmean(to_push), 1),
        f"push_p99_by_{PUSH_WINDOW_S}s_ms": p99_by_window(pushes),
        "push_ms": to_push,
    }


def push_percentiles(to_push: list[float]) -> dict[str, float]:
    return {f"push_p{share}_ms": round(percentile(to_push, share / 100), 1) for share in (50, 95, 99)}


def cpu_seconds(roles: Roles) -> dict[str, float]:
    """CPU seconds each role's processes, children included, have used (each role runs in
    its own session)."""
    return profiling.cpu_seconds({process.name: profiling.in_session(process.process.pid) for process in roles.all})


# What the modes are judged on: the settings the project ships (backend.env.example, compose
# and Kubernetes: one trace in ten, a batch every 500 ms), every trace (the demo and the
# tests), and the SDK's own defaults (a batch every 5 s) for comparison.
EXPORTING = {"OTEL_BSP_SCHEDULE_DELAY": "500"}
ONE_IN_TEN = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
TRACING_MODES = {
    "off": {},
    "1 in 10, 500 ms batches (as shipped)": {**EXPORTING, **ONE_IN_TEN},
    "every trace, 500 ms batches (up.sh)": EXPORTING,
    "every trace, SDK defaults (5 s batches)": {},
}
# The short names --tracing-modes takes.
TRACING_MODE_KEYS = dict(zip(("off", "one-in-ten", "every-500ms", "every-5s"), TRACING_MODES, strict=True))


def tracing_environment(mode: str) -> dict[str, str]:
    """The roles' variables for a mode of TRACING_MODES: export to the local OTLP receiver."""
    if mode == "off":
        return {}
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": os.environ["OTLP_RECEIVER_URL"], **TRACING_MODES[mode]}


def tracing_overhead(images: dict, rate: float, seconds: float, rounds: int, modes: list[str]) -> int:
    """Latency and CPU at `rate` with every role exporting its spans to the local OTLP
    receiver, against the same roles with tracing off. The modes alternate `rounds` times,
    so the machine's drift falls on all of them, and each mode's percentiles are taken over
    all its runs' detections together: a p99 of one short run is its third-slowest push."""
    pushes: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, dict[str, float]] = {mode: {} for mode in modes}
    for _ in range(rounds):
        for mode in modes:
            fresh_storage()
            roles = run_roles({**LATENCY_ROLES, **tracing_environment(mode)})
            try:
                latency_at(rate, 3, images)  # warm-up: connections, first spans
                before = cpu_seconds(roles)
                run = latency_at(rate, seconds, images)
                after = cpu_seconds(roles)
            finally:
                roles.stop()
            pushes[mode] += run["push_ms"]
            for role, used in after.items():
                cpu[mode][role] = cpu[mode].get(role, 0.0) + used - before[role]
    summary = {mode: push_percentiles(values) for mode, values in pushes.items()}
    cpu_ms_per_event = {
        mode: {role: round(used * 1000 / len(pushes[mode]), 2) for role, used in used_by_role.items()}
        for mode, used_by_role in cpu.items()
    }
    growth = {mode: summary[mode]["push_p99_ms"] / summary["off"]["push_p99_ms"] - 1 for mode in modes}
    cpu_growth = {
        mode: sum(cpu_ms_per_event[mode].values()) / sum(cpu_ms_per_event["off"].values()) - 1 for mode in modes
    }
    count = len(pushes["off"])
    print(f"\ntracing overhead at {rate:g} detections/s, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs;")
    print(f"{rounds} runs of {seconds:g} s per mode, alternated; percentiles over {count} detections per mode")
    print(f"{'tracing':40} {'push p50':>9} {'push p95':>9} {'push p99':>9} {'p99 growth':>11} {'CPU/event':>10}")
    for mode, row in summary.items():
        print(
            f"{mode:40} {row['push_p50_ms']:8.0f}ms {row['push_p95_ms']:8.0f}ms {row['push_p99_ms']:8.0f}ms "
            f"{growth[mode]:+10.1%} {cpu_growth[mode]:+9.1%}"
        )
    print("\nCPU ms per detection, by role")
    roles_seen = list(cpu_ms_per_event["off"])
    print(f"{'tracing':40} " + " ".join(f"{role:>13}" for role in roles_seen))
    for mode, by_role in cpu_ms_per_event.items():
        print(f"{mode:40} " + " ".join(f"{by_role[role]:13.1f}" for role in roles_seen))
    shipped = TRACING_MODE_KEYS["one-in-ten"]
    if shipped in growth:
        verdict = "met" if growth[shipped] <= 0.10 else "not met"
        print(f"goal: p99 grows by at most 10 % as shipped ({shipped}): {verdict} ({growth[shipped]:+.1%})")
    print(
        json.dumps(
            {
                "bench": "e2e-tracing",
                "rate": rate,
                "detections_per_mode": count,
                "summary": summary,
                "cpu_ms_per_event": cpu_ms_per_event,
                "p99_growth": {mode: round(value, 4) for mode, value in growth.items() if mode != "off"},
                "cpu_growth": {mode: round(value, 4) for mode, value in cpu_growth.items() if mode != "off"},
                "within_goal": {mode: value <= 0.10 for mode, value in growth.items() if mode != "off"},
            }
        )
    )
    return 0


def knee(images: dict, rates: list[float], seconds: float, fcm_latency_ms: float, ocr_processes: int) -> int:
    """Latency at rising offered rates with FCM answering after `fcm_latency_ms`, and the
    cores each role and each backing service used meanwhile: where the pipeline saturates,
    and which process first."""
    roles = run_roles({**LATENCY_ROLES, "OCR_CONCURRENCY": str(ocr_processes)})
    FCM.configure(latency_ms=fcm_latency_ms)
    groups = {
        **{process.name: profiling.in_session(process.process.pid) for process in roles.all},
        **profiling.SERVICES,
        "this benchmark": profiling.in_session(os.getsid(0)),
    }
    rows = []
    try:
        for rate in rates:
            fresh_storage()
            before, busy, started = profiling.cpu_seconds(groups), profiling.machine_busy_seconds(), time.monotonic()
            row = latency_at(rate, seconds, images)
            wall = time.monotonic() - started
            after = profiling.cpu_seconds(groups)
            del row["push_ms"]
            row["cores"] = {name: round((after[name] - before[name]) / wall, 2) for name in groups}
            row["machine_busy"] = round((profiling.machine_busy_seconds() - busy) / wall / os.cpu_count(), 3)
            row["p99_within_goal"] = row["push_p99_ms"] < 500
            rows.append(row)
    finally:
        roles.stop()
    print(
        f"\nthe knee: FCM at {fcm_latency_ms:g} ms, {ocr_processes} OCR processes, {seconds:g} s per rate, "
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs"
    )
    names = list(groups)
    print(
        f"{'offered/s':>9} {'stored p99':>10} {'read p99':>9} {'push p50':>9} {'push p99':>9} {'busy':>5}  "
        + "  ".join(f"{name[:12]:>12}" for name in names)
    )
    for row in rows:
        cores = "  ".join(f"{row['cores'][name]:12.2f}" for name in names)
        print(
            f"{row['rate']:9g} {row['stored_p99_ms']:8.0f}ms {row['read_p99_ms']:7.0f}ms "
            f"{row['push_p50_ms']:7.0f}ms {row['push_p99_ms']:7.0f}ms "
            f"{row['machine_busy']:5.0%}  {cores}"
        )
    print("(cores: CPU seconds per second of each process group; the machine has", os.cpu_count(), "cores)")
    for row in rows:
        windows = " ".join(f"{value:g}" for value in row[f"push_p99_by_{PUSH_WINDOW_S}s_ms"])
        print(f"push p99 (ms) of each {PUSH_WINDOW_S} s at {row['rate']:g}/s: {windows}")
    print(
        json.dumps(
            {
                "bench": "e2e-knee",
                "fcm_latency_ms": fcm_latency_ms,
                "ocr_processes": ocr_processes,
                "seconds": seconds,
                "p99_ms": {str(row["rate"]): row["push_p99_ms"] for row in rows},
                "rows": rows,
            }
        )
    )
    return 0


def profile_roles(
    images: dict, out: Path, rate: float, seconds: float, output_format: str, tracing_mode: str = "off"
) -> int:
    """py-spy profiles of each role (a prefork parent with its children) while `rate`
    detections per second go through, and the CPU each role used per detection; with
    tracing as `tracing_mode` (of TRACING_MODES) sets it."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = profiling.SUFFIX[output_format]
    roles = run_roles({**LATENCY_ROLES, **tracing_environment(tracing_mode)})
    try:
        latency_at(rate, 3, images)  # warm-up
        profilers = [
            profiling.record(
                process.process.pid,
                out / f"{process.name}.{suffix}",
                seconds=seconds + 2,
                output_format=output_format,
            )
            for process in roles.all
        ]
        time.sleep(1)
        before = cpu_seconds(roles)
        run = latency_at(rate, seconds, images)
        after = cpu_seconds(roles)
        for profiler in profilers:
            profiler.wait(timeout=120)
    finally:
        roles.stop()
    cpu_ms = {role: round((after[role] - before[role]) * 1000 / run["count"], 2) for role in after}
    print(f"\nprofiles at {rate:g} detections/s for {seconds:g} s, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs")
    print(f"{'role':14} {'CPU ms per detection':>21}   profile")
    for role, used in cpu_ms.items():
        print(f"{role:14} {used:21.1f}   {out / f'{role}.{suffix}'}")
    print(f"push p50 {run['push_p50_ms']:.0f} ms, p99 {run['push_p99_ms']:.0f} ms (py-spy samples the roles meanwhile)")
    print(json.dumps({"bench": "e2e-profile", "rate": rate, "cpu_ms_per_detection": cpu_ms, "format": output_format}))
    return 0


def fresh_storage() -> None:
    """Restart the GCS emulator empty: it keeps every object in memory and its CPU per
    request grows with them, until it takes a core and stalls uploads for minutes."""
    profile_shell("bench", "stop_gcs", "start_gcs")
    workload.forget_uploaded()  # the restart emptied the bucket: no deletes on the next reset


def run_roles(overrides: dict[str, str]) -> Roles:
    roles = Roles.from_environment(LOG_DIR, {**BASE_ENV, **overrides}, periodic_jobs=False)
    roles.start()
    return roles


def burst_rate(images: dict, count: int, overrides: dict[str, str], fcm_latency_ms: float = 0) -> float:
    """Pushes per second for a backlog of `count` matched detections published at once."""
    workload.reset(registered_every=1)
    FCM.configure(latency_ms=fcm_latency_ms)
    roles = run_roles(overrides)
    try:
        publisher = Publisher()
        started = time.time()
        publisher.publish(workload.events(count, images), rate=None)
        messages = wait_pushes(count)
        publisher.close()
        return count / (max(m["received_at"] for m in messages) - started)
    finally:
        roles.stop()
        FCM.configure(latency_ms=0)


def main() -> int:
    parser = argparse.ArgumentParser(description="SpeedCam end-to-end latency and throughput")
    parser.add_argument("--rates", default="5,10,20,40", help="offered detections per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each rate step")
    parser.add_argument("--burst", type=int, default=300, help="detections in each throughput run")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--tracing-only", action="store_true", help="only tracing's overhead: export on against off")
    parser.add_argument("--tracing-rate", type=float, default=20.0, help="offered detections per second for it")
    parser.add_argument("--tracing-rounds", type=int, default=3, help="runs of each mode, alternated")
    parser.add_argument("--tracing-seconds", type=float, default=30.0, help="duration of each run")
    parser.add_argument(
        "--tracing-modes",
        default=",".join(TRACING_MODE_KEYS),
        help=f"modes to compare, 'off' included: {', '.join(TRACING_MODE_KEYS)}",
    )
    parser.add_argument(
        "--profile-only", metavar="DIR", help="only py-spy profiles of each role at --profile-rate, written to DIR"
    )
    parser.add_argument("--profile-rate", type=float, default=20.0, help="offered detections per second for them")
    parser.add_argument("--profile-format", default="flamegraph", choices=["flamegraph", "raw", "speedscope"])
    parser.add_argument(
        "--profile-tracing", default="off", choices=list(TRACING_MODE_KEYS), help="tracing in --profile-only"
    )
    parser.add_argument(
        "--knee-only", metavar="RATES", help="only latency and cores per process at these rates, e.g. 30,40,50,60"
    )
    parser.add_argument("--fcm-latency-ms", type=float, default=50.0, help="FCM's answer time in --knee-only")
    parser.add_argument("--ocr-processes", type=int, default=2, help="OCR worker processes in --knee-only")
    args = parser.parse_args()
    tracing_keys = args.tracing_modes.split(",")
    if unknown := set(tracing_keys) - set(TRACING_MODE_KEYS):
        parser.error(f"unknown tracing modes {sorted(unknown)}; known: {', '.join(TRACING_MODE_KEYS)}")
    rates = [float(rate) for rate in args.rates.split(",")]
    images = workload.upload_images()

    if args.tracing_only:
        modes = ["off"] + [TRACING_MODE_KEYS[key] for key in tracing_keys if key != "off"]
        return tracing_overhead(images, args.tracing_rate, args.tracing_seconds, args.tracing_rounds, modes)
    if args.knee_only:
        rates = [float(rate) for rate in args.knee_only.split(",")]
        return knee(images, rates, args.seconds, args.fcm_latency_ms, args.ocr_processes)
    if args.profile_only:
        return profile_roles(
            images,
            Path(args.profile_only),
            args.profile_rate,
            args.seconds,
            args.profile_format,
            TRACING_MODE_KEYS[args.profile_tracing],
        )

    # 1. Latency at fixed offered rates: 2 OCR processes, 50 alert greenlets, FCM answers at once.
    roles = run_roles(LATENCY_ROLES)
    try:
        latency_rows = [latency_at(rate, args.seconds, images) for rate in rates]
        for row in latency_rows:
            del row["push_ms"]  # the raw latencies stay out of the JSON line
    finally:
        roles.stop()

    # 2. Throughput with a real engine's running time (100 ms per image): 1 -> 2 OCR processes.
    ocr_rows = {
        processes: burst_rate(images, args.burst, {"OCR_CONCURRENCY": str(processes), "OCR_MOCK_LATENCY_MS": "100"})
        for processes in (1, 2)
    }
    # 3. Throughput with FCM answering after 50 ms: alert concurrency 5 -> 50.
    alert_rows = {
        greenlets: burst_rate(
            images, args.burst, {"OCR_CONCURRENCY": "2", "ALERT_CONCURRENCY": str(greenlets)}, fcm_latency_ms=50
        )
        for greenlets in (5, 50)
    }

    print(f"\nend to end, {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} CPUs; latency from MQTT publish")
    print(f"{'offered/s':>9} {'n':>5} {'read p50':>9} {'push p50':>9} {'push p95':>9} {'push p99':>9}")
    for row in latency_rows:
        print(
            f"{row['rate']:9g} {row['count']:5d} {row['read_p50_ms']:8.0f}ms {row['push_p50_ms']:8.0f}ms "
            f"{row['push_p95_ms']:8.0f}ms {row['push_p99_ms']:8.0f}ms"
        )
    print(f"\nthroughput, {args.burst} detections published at once, pushes/s")
    print(f"{'configuration':44} {'pushes/s':>9}")
    for processes, rate in ocr_rows.items():
        print(f"{f'OCR {processes} process(es), 100 ms per image':44} {rate:9.1f}")
    for greenlets, rate in alert_rows.items():
        print(f"{f'alert {greenlets} greenlets, FCM 50 ms':44} {rate:9.1f}")
    print(
        json.dumps(
            {
                "bench": "e2e",
                "latency": latency_rows,
                "ocr_processes_pushes_per_s": ocr_rows,
                "ocr_2_vs_1": round(ocr_rows[2] / ocr_rows[1], 3),
                "alert_greenlets_pushes_per_s": alert_rows,
                "alert_50_vs_5": round(alert_rows[50] / alert_rows[5], 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
