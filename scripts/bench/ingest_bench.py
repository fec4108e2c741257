"""Driver of scripts/bench/ingest (run it through that script: it starts the services)."""

from __future__ import annotations

import argparse
import json
import os
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
from django.db import connections
from kombu import Connection

from backend.cameras.services import register_camera
from backend.contracts.events import detections_new_topic
from backend.messaging.topology import ALL_QUEUES, INGEST_QUEUE, declare_topology
from harness.processes import RoleProcess, Roles, scrape

LOG_DIR = REPO_ROOT / ".state" / "bench" / "logs"
METRICS_PORTS = (9230, 9231)
PROCESSED = "speedcam_ingest_messages_processed_total"


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


def raw_broker_rate(messages: list[bytes]) -> float:
    """paho QoS-1 publish -> paho QoS-1 receive, nothing done with the message."""
    topic = f"bench/raw/{uuid.uuid4().hex[:6]}"
    received = 0
    done = threading.Event()

    def on_message(*_: object) -> None:
        nonlocal received
        received += 1
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
    return len(messages) / elapsed


def reset() -> None:
    with connections["detections_db"].cursor() as cursor:
        cursor.execute("TRUNCATE TABLE detections")
    with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
        declare_topology(connection)
        for queue in ALL_QUEUES:
            connection.default_channel.queue_purge(queue.name)


def ingest_rate(messages: list[bytes], consumers: list[RoleProcess]) -> float:
    """Publish a backlog while the ingest processes run; time until every event is handled."""
    reset()
    baseline = sum(scrape(port, PROCESSED) for port in METRICS_PORTS[: len(consumers)])
    publisher = mqtt_client("ingest-pub")
    started = time.monotonic()
    publish(publisher, detections_new_topic(BENCH_CAMERA), messages)
    deadline = started + 600
    while sum(scrape(port, PROCESSED) for port in METRICS_PORTS[: len(consumers)]) - baseline < len(messages):
        if time.monotonic() > deadline:
            raise AssertionError("ingest did not finish within 600 s")
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    publisher.disconnect()
    publisher.loop_stop()
    return len(messages) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description="SpeedCam ingest throughput")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    messages = payloads(args.count)
    results: list[tuple[str, float]] = []

    results.append(("raw broker (paho -> paho)", raw_broker_rate(messages)))

    # INFO, as in production: a log line per state change is part of the cost.
    roles = Roles.from_environment(
        LOG_DIR, {"INGEST_METRICS_PORT": str(METRICS_PORTS[0]), "LOG_LEVEL": "INFO"}, periodic_jobs=False
    )
    roles.start((roles.subscriber,))
    try:
        results.append(("MQTT subscriber x1", ingest_rate(payloads(args.count), [roles.subscriber])))
    finally:
        roles.subscriber.stop()

    consumers = [
        roles.role(
            f"amqp-ingest-{port}",
            [str(REPO_ROOT / "scripts/start_main.sh"), "subscriber"],
            lambda p: "amqp ingest consuming" in p.log_text(),
            INGEST_MODE="amqp",
            INGEST_METRICS_PORT=str(port),
        )
        for port in METRICS_PORTS
    ]
    try:
        for width in (1, 2):
            roles.start(tuple(consumers[:width]))
            results.append((f"AMQP ingest x{width}", ingest_rate(payloads(args.count), consumers[:width])))
            for consumer in consumers[:width]:
                consumer.stop()
    finally:
        for consumer in consumers:
            consumer.stop()
        with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
            INGEST_QUEUE(connection.default_channel).delete()
        reset()

    raw = results[0][1]
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    print(f"\ningest throughput, {args.count} detections/new events, {today}, {os.cpu_count()} CPUs")
    print(f"{'path':28} {'events/s':>9} {'vs raw broker':>14}")
    for name, rate in results:
        print(f"{name:28} {rate:9.0f} {rate / raw:13.1%}")
    figures = {name: round(rate, 1) for name, rate in results}
    print(
        json.dumps(
            {
                "bench": "ingest",
                "count": args.count,
                "events_per_s": figures,
                "mqtt_subscriber_vs_raw": round(results[1][1] / raw, 4),
                "amqp_x2_vs_x1": round(results[3][1] / results[2][1], 3),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
