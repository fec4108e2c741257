"""Driver of scripts/bench/ingest (run it through that script: it starts the services)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import django

django.setup()

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import connections
from django.utils import timezone
from kombu import Connection

from backend.cameras.selectors import camera_by_id
from backend.cameras.services import register_camera
from backend.contracts.events import detections_new_topic, parse_detection_new
from backend.detections.models import Detection
from backend.detections.services import NewDetection, register_detections
from backend.messaging.dispatch import OcrHandover, dispatch_ocr_many
from backend.messaging.topology import ALL_QUEUES, INGEST_QUEUE, OCR_QUEUE, declare_topology
from harness import profiling
from harness.processes import Consuming, RoleProcess, Roles, scrape

LOG_DIR = REPO_ROOT / ".state" / "bench" / "logs"
METRICS_PORTS = (9230, 9231)
PROCESSED = "speedcam_ingest_messages_processed_total"
BATCHES = "speedcam_ingest_batch_messages_count"


def mqtt_client(name: str, **options: object) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"bench-{name}-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv311,
        **options,
    )
    client.username_pw_set(os.environ["MQTT_USERNAME"], os.environ["MQTT_PASSWORD"])
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(os.environ["MQTT_HOST"], int(os.environ["MQTT_PORT"]))
    client.loop_start()
    assert connected.wait(10), "MQTT connect timed out"
    return client


BENCH_CAMERA = "cam-bench"


def payloads(count: int) -> list[bytes]:
    bucket = os.environ["GCS_BUCKET_NAME"]
    now = datetime.now(UTC).isoformat()
    register_camera(BENCH_CAMERA, location="벤치마크 도로", speed_limit=60.0)
    return [
        json.dumps(
            {
                "event_id": event_id,
                "camera_id": BENCH_CAMERA,
                "location": "벤치마크 도로",
                "detected_speed": 90.0,
                "speed_limit": 60.0,
                "detected_at": now,
                "image_gcs_uri": f"gs://{bucket}/detections/{BENCH_CAMERA}/bench/{event_id}.jpg",
                "image_sha256": "0" * 64,
            },
            ensure_ascii=False,
        ).encode()
        for event_id in (str(uuid.uuid4()) for _ in range(count))
    ]


def publish(client: mqtt.Client, topic: str, messages: list[bytes]) -> None:
    infos = [client.publish(topic, message, qos=1) for message in messages]
    for info in infos:
        info.wait_for_publish(timeout=120)


@dataclass
class Raw:
    rate: float
    receive_cpu_ms: float  # CPU of the receiving client's network thread per message


def raw_broker_rate(messages: list[bytes]) -> Raw:
    """paho QoS-1 publish -> paho QoS-1 receive, nothing done with the message."""
    topic = f"bench/raw/{uuid.uuid4().hex[:6]}"
    received = 0
    done = threading.Event()
    receive_cpu: list[float] = []  # the network thread's CPU time at the first and the last message

    def on_message(*_: object) -> None:
        nonlocal received
        received += 1
        if received in (1, len(messages)):
            receive_cpu.append(time.thread_time())
        if received == len(messages):
            done.set()

    subscriber = mqtt_client("raw-sub")
    subscriber.on_message = on_message
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.subscribe(topic, qos=1)
    assert subscribed.wait(10)
    publisher = mqtt_client("raw-pub")
    started = time.monotonic()
    publish(publisher, topic, messages)
    assert done.wait(300), f"raw: received {received} of {len(messages)}"
    elapsed = time.monotonic() - started
    for client in (publisher, subscriber):
        client.disconnect()
        client.loop_stop()
    return Raw(len(messages) / elapsed, (receive_cpu[-1] - receive_cpu[0]) * 1000 / max(1, len(messages) - 1))


@dataclass
class Floor:
    """CPU per event, in this process, of what ingest cannot do without, each part measured
    alone: `receive`, paho's network thread; `store`, validating and storing in batches of
    INGEST_BATCH_SIZE (one query for stored events, one bulk insert); `publish`, Celery's
    task publishes and their confirm round, as the subscriber does them."""

    receive: float
    publish: float
    store: float

    @property
    def total(self) -> float:
        return self.receive + self.publish + self.store


def floor(messages: list[bytes], receive_cpu_ms: float) -> Floor:
    reset()
    batch = settings.INGEST_BATCH_SIZE
    camera = camera_by_id(BENCH_CAMERA)
    assert camera is not None
    max_age = timedelta(seconds=settings.INGEST_MAX_EVENT_AGE_S)
    started = time.thread_time()
    detections: list[Detection] = []
    for i in range(0, len(messages), batch):
        now = timezone.now()
        events = [
            parse_detection_new(payload, expected_bucket=settings.GCS_BUCKET_NAME, now=now, max_age=max_age)
            for payload in messages[i : i + batch]
        ]
        registered = register_detections([NewDetection(event, camera.location, camera.speed_limit) for event in events])
        detections.extend(detection for detection, _ in registered)
    store = (time.thread_time() - started) * 1000 / len(messages)
    handovers = [OcrHandover(d.pk, d.event_id, d.detected_speed, d.speed_limit) for d in detections]
    started = time.thread_time()
    for i in range(0, len(handovers), batch):
        dispatch_ocr_many(handovers[i : i + batch])
    publish = (time.thread_time() - started) * 1000 / len(handovers)
    reset()
    return Floor(receive_cpu_ms, publish, store)


def reset() -> None:
    """An empty detections table and empty queues, the subscriber's MQTT session included:
    completions left there by earlier runs would be counted as this run's work."""
    with connections["detections_db"].cursor() as cursor:
        cursor.execute("TRUNCATE TABLE detections")
    with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
        declare_topology(connection)
        for queue in ALL_QUEUES:
            connection.default_channel.queue_purge(queue.name)
        try:
            connection.default_channel.queue_purge(f"mqtt-subscription-{settings.MQTT_CLIENT_ID}qos1")
        except connection.channel_errors:  # no session yet
            connection.close()


@dataclass
class Run:
    rate: float
    cpu_ms_per_event: dict[str, float] = field(default_factory=dict)
    ingest_cores: float = 0.0
    machine_busy: float = 0.0
    mean_batch: float = 0.0


def ingest_rate(
    messages: list[bytes],
    consumers: list[RoleProcess],
    profile_to: Path | None = None,
    profile_format: str = "flamegraph",
) -> Run:
    """Publish a backlog while the ingest processes run; time until every event is handled,
    with the CPU each process group spent per event and how busy the machine was."""
    reset()
    ports = METRICS_PORTS[: len(consumers)]
    baseline = sum(scrape(port, PROCESSED) for port in ports)
    batches_before = sum(scrape(port, BATCHES) for port in ports)
    pids = {consumer.process.pid for consumer in consumers}
    groups = {"ingest": lambda session, _: session in pids, **profiling.SERVICES}
    profilers = [
        profiling.record(
            pid,
            profile_to.with_suffix(f".{index}.{profiling.SUFFIX[profile_format]}"),
            seconds=3600,
            output_format=profile_format,
        )
        for index, pid in enumerate(sorted(pids))
        if profile_to
    ]
    publisher = mqtt_client("ingest-pub")
    cpu_before, busy_before = profiling.cpu_seconds(groups), profiling.machine_busy_seconds()
    started = time.monotonic()
    publish(publisher, detections_new_topic(BENCH_CAMERA), messages)
    deadline = started + 600
    # Done when every task is in the OCR queue (its event committed, its publish confirmed;
    # the acknowledgements follow at once). Asking the broker costs the ingest process
    # nothing; a scrape of its endpoint would (a database query each).
    with Connection(os.environ["CELERY_BROKER_URL"]) as broker:
        while broker.default_channel.queue_declare(OCR_QUEUE.name, passive=True).message_count < len(messages):
            if time.monotonic() > deadline:
                raise AssertionError("ingest did not finish within 600 s")
            time.sleep(0.02)
    elapsed = time.monotonic() - started
    cpu_after, busy_after = profiling.cpu_seconds(groups), profiling.machine_busy_seconds()
    while sum(scrape(port, PROCESSED) for port in ports) - baseline < len(messages):
        if time.monotonic() > deadline:
            raise AssertionError("ingest did not acknowledge every event within 600 s")
        time.sleep(0.1)
    batches = sum(scrape(port, BATCHES) for port in ports) - batches_before
    publisher.disconnect()
    publisher.loop_stop()
    for profiler in profilers:  # py-spy writes what it sampled when interrupted
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)
    return Run(
        rate=len(messages) / elapsed,
        cpu_ms_per_event={
            name: round((cpu_after[name] - cpu_before[name]) * 1000 / len(messages), 3) for name in groups
        },
        ingest_cores=round((cpu_after["ingest"] - cpu_before["ingest"]) / elapsed, 2),
        machine_busy=round((busy_after - busy_before) / elapsed / (os.cpu_count() or 1), 3),
        mean_batch=round(len(messages) / batches, 1) if batches else 0.0,
    )


GOAL_RATIO_TO_RAW = 0.5
GOAL_SCALE_OUT = 1.7


def main() -> int:
    parser = argparse.ArgumentParser(description="SpeedCam ingest throughput")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", metavar="DIR", type=Path, help="py-spy flame graphs of the ingest processes")
    parser.add_argument("--profile-format", default="flamegraph", choices=sorted(profiling.SUFFIX))
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    messages = payloads(args.count)
    raw_run = raw_broker_rate(messages)
    raw = raw_run.rate
    limits = floor(payloads(args.count), raw_run.receive_cpu_ms)
    runs: dict[str, Run] = {}

    def profile_to(name: str) -> Path | None:
        return args.profile / name if args.profile else None

    # INFO, as in production: a log line per state change is part of the cost.
    for name, batch_size in (("MQTT x1, one at a time", "1"), ("MQTT x1", None)):
        roles = Roles.from_environment(
            LOG_DIR,
            {
                "INGEST_METRICS_PORT": str(METRICS_PORTS[0]),
                "LOG_LEVEL": "INFO",
                **({"INGEST_BATCH_SIZE": batch_size} if batch_size else {}),
            },
            periodic_jobs=False,
        )
        roles.start((roles.subscriber,))
        try:
            runs[name] = ingest_rate(
                payloads(args.count), [roles.subscriber], profile_to(f"ingest-mqtt-{len(runs)}"), args.profile_format
            )
        finally:
            roles.subscriber.stop()

    consumers = [
        roles.role(
            f"amqp-ingest-{port}",
            [str(REPO_ROOT / "scripts/start_main.sh"), "subscriber"],
            Consuming("INGEST_METRICS_PORT"),
            INGEST_MODE="amqp",
            INGEST_METRICS_PORT=str(port),
        )
        for port in METRICS_PORTS
    ]
    try:
        for width in (1, 2):
            roles.start(tuple(consumers[:width]))
            name = f"AMQP x{width}"
            runs[name] = ingest_rate(
                payloads(args.count), consumers[:width], profile_to(f"ingest-amqp-x{width}"), args.profile_format
            )
            for consumer in consumers[:width]:
                consumer.stop()
    finally:
        for consumer in consumers:
            consumer.stop()
        with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
            INGEST_QUEUE(connection.default_channel).delete()
        reset()

    today = f"{datetime.now(UTC):%Y-%m-%d}"
    print(f"\ningest throughput, {args.count} detections/new events, {today}, {os.cpu_count()} CPUs")
    print(
        f"{'path':24} {'events/s':>9} {'vs raw':>7} {'batch':>6} {'ingest cores':>13} "
        f"{'CPU ms/event: ingest':>21} {'MariaDB':>8} {'RabbitMQ':>9} {'machine busy':>13}"
    )
    print(f"{'raw broker (paho->paho)':24} {raw:9.0f} {1:7.0%}")
    for name, run in runs.items():
        cpu = run.cpu_ms_per_event
        print(
            f"{name:24} {run.rate:9.0f} {run.rate / raw:7.1%} {run.mean_batch:6.1f} {run.ingest_cores:13.2f} "
            f"{cpu['ingest']:21.2f} {cpu['MariaDB']:8.2f} {cpu['RabbitMQ']:9.2f} {run.machine_busy:13.0%}"
        )
    mqtt, amqp1, amqp2 = runs["MQTT x1"], runs["AMQP x1"], runs["AMQP x2"]
    scale_out = amqp2.rate / amqp1.rate
    print(f"batching: {mqtt.rate / runs['MQTT x1, one at a time'].rate:.1f}x the one-at-a-time subscriber")
    print(
        f"floor, CPU per event in one process, each part measured alone: paho's receive {limits.receive:.3f} ms "
        f"+ Celery's task publish (confirmed, with its task-sent event) {limits.publish:.3f} ms + validate and "
        f"store (pydantic, one bulk insert per batch) {limits.store:.3f} ms = {limits.total:.3f} ms"
    )
    ceilings = {}
    for name, run in (("MQTT x1", mqtt), ("AMQP x1", amqp1)):
        # AMQP receives through kombu, not paho: its floor leaves the receive out.
        parts, floor_ms = (
            ("receiving, storing and publishing", limits.total)
            if name.startswith("MQTT")
            else ("storing and publishing", limits.store + limits.publish)
        )
        most = ceilings[name] = 1000 / floor_ms  # one process on a whole core, doing only these
        ratio = run.rate / raw
        if ratio >= GOAL_RATIO_TO_RAW:
            verdict = "met"
        elif most < GOAL_RATIO_TO_RAW * raw:
            verdict = (
                f"not met, and it cannot be here: {parts} take {floor_ms:.3f} ms of CPU per event measured "
                f"alone, so one process on a whole core, with no logging, metrics or waiting, reaches at most "
                f"{most:.0f}/s = {most / raw:.0%} of the raw rate"
            )
        else:
            verdict = (
                f"not met: the ingest process used {run.ingest_cores:.2f} cores, "
                f"{run.cpu_ms_per_event['ingest']:.2f} ms CPU per event, the machine {run.machine_busy:.0%} busy"
            )
        print(f"goal: {name} >= {GOAL_RATIO_TO_RAW:.0%} of the raw broker rate ({ratio:.1%}): {verdict}")
    cpu_bound = amqp2.machine_busy >= 0.9
    scale_verdict = "met" if scale_out >= GOAL_SCALE_OUT else ("the CPUs do not allow it" if cpu_bound else "not met")
    print(
        f"goal: AMQP x2 >= {GOAL_SCALE_OUT}x AMQP x1: {scale_verdict} ({scale_out:.2f}x; "
        f"machine {amqp2.machine_busy:.0%} busy at x2)"
    )
    print(
        json.dumps(
            {
                "bench": "ingest",
                "count": args.count,
                "raw_broker_events_per_s": round(raw, 1),
                "floor_cpu_ms_per_event": {
                    "receive": round(limits.receive, 3),
                    "publish": round(limits.publish, 3),
                    "store": round(limits.store, 3),
                },
                "ratio_to_raw_at_most": {name: round(most / raw, 4) for name, most in ceilings.items()},
                "events_per_s": {name: round(run.rate, 1) for name, run in runs.items()},
                "ratio_to_raw": {name: round(run.rate / raw, 4) for name, run in runs.items()},
                "batching_speedup": round(mqtt.rate / runs["MQTT x1, one at a time"].rate, 2),
                "amqp_x2_vs_x1": round(scale_out, 3),
                "mean_batch": {name: run.mean_batch for name, run in runs.items()},
                "cpu_ms_per_event": {name: run.cpu_ms_per_event for name, run in runs.items()},
                "machine_busy": {name: run.machine_busy for name, run in runs.items()},
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
