"""Driver of scripts/bench/alert (run through that script: it starts the services)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import django

django.setup()

from kombu import Connection

from backend.detections.models import Detection
from backend.messaging.dispatch import dispatch_alert
from backend.messaging.topology import declare_topology
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from harness import workload

FCM = os.environ["FCM_ENDPOINT"]


def fcm(path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{FCM}{path}", data=data, method="POST" if data else "GET", headers={"Content-Type": "application/json"}
    )
    return json.load(urllib.request.urlopen(request, timeout=30))


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


def run(count: int, concurrency: int, latency_ms: float, processes: int) -> dict:
    """`processes` gevent workers with `concurrency` greenlets each, against a full queue."""
    with Connection(os.environ["CELERY_BROKER_URL"]) as broker:
        declare_topology(broker)
        broker.default_channel.queue_purge("fcm_queue")
    detections = prepare(count)
    fcm("/_control/reset", {})
    fcm("/_control/config", {"latency_ms": latency_ms, "rules": []})
    for detection in detections:  # the queue is full before the workers start
        dispatch_alert(detection_id=detection.pk, event_id=detection.event_id)
    log_path = REPO_ROOT / f".state/bench/alert-worker-{processes}x{concurrency}.log"
    workers = []
    with open(log_path, "w") as log:
        for index in range(processes):
            env = {
                **os.environ,
                "ALERT_CONCURRENCY": str(concurrency),
                "ALERT_WORKER_NAME": f"bench-alert-{index}-{concurrency}@%h",
            }
            workers.append(
                subprocess.Popen(
                    [str(REPO_ROOT / "scripts/start_alert_worker.sh")],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    deadline = time.monotonic() + max(120, count / 20)
    try:
        while len((state := fcm("/_control/messages"))["messages"]) < count:
            if time.monotonic() > deadline or any(worker.poll() is not None for worker in workers):
                raise SystemExit(f"only {len(state['messages'])}/{count} pushes arrived; see {log_path}")
            time.sleep(0.5)
    finally:
        for worker in workers:
            os.killpg(worker.pid, 15)
        for worker in workers:
            worker.wait(30)
    received = sorted(message["received_at"] for message in state["messages"])
    # Steady state: from the first to the last accepted push (worker start-up excluded).
    elapsed = received[-1] - received[0]
    rate = (count - 1) / elapsed
    ideal = processes * concurrency / (latency_ms / 1000)
    sent = Notification.objects.filter(status="sent").count()
    duplicates = count - len({message["message"]["token"] for message in state["messages"]})
    return {
        "processes": processes,
        "concurrency": concurrency,
        "count": count,
        "latency_ms": latency_ms,
        "seconds": round(elapsed, 2),
        "sends_per_s": round(rate, 1),
        "ideal_per_s": round(ideal, 1),
        "ratio": round(rate / ideal, 3),
        "max_in_flight": state["max_in_flight"],
        "notifications_sent": sent,
        "duplicate_pushes": duplicates,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", default="10,100", help="greenlets per worker, e.g. 10,100")
    parser.add_argument("--processes", default="1", help="worker processes, e.g. 1,2")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true", help="leave the bench services running")
    args = parser.parse_args()
    results = [
        run(args.count, int(c), args.latency_ms, int(p))
        for p in args.processes.split(",")
        for c in args.concurrency.split(",")
    ]
    header = (
        "processes",
        "concurrency",
        "pushes",
        "seconds",
        "sends/s",
        "ideal/s",
        "ratio",
        "max in flight",
        "sent",
        "dupes",
    )
    rows = [
        (
            r["processes"],
            r["concurrency"],
            r["count"],
            r["seconds"],
            r["sends_per_s"],
            r["ideal_per_s"],
            f"{r['ratio']:.0%}",
            r["max_in_flight"],
            r["notifications_sent"],
            r["duplicate_pushes"],
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    print(f"alert worker (gevent, firebase-admin) vs FCM emulator at {args.latency_ms:.0f} ms latency")
    for row in (header, *rows):
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
    print(json.dumps({"benchmark": "alert", "date": datetime.now(UTC).date().isoformat(), "results": results}))


if __name__ == "__main__":
    main()
