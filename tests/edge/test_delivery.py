"""The edge's delivery against the real broker, the GCS emulator and the running backend."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from backend.contracts.events import TOPIC_DETECTIONS_NEW
from backend.detections.models import Detection
from edge.forwarder import Forwarder
from edge.sample import render_snapshot
from edge.spool import Spool
from edge.synthetic import generate
from edge.uplink import Uplink
from harness.processes import wait_for
from harness.services import REPO_ROOT
from tests.support.events import KST, register_test_camera
from tests.support.pipeline import wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def spooled_violation(spool: Spool, plate: str) -> dict:
    image = render_snapshot(plate, width=640, height=360)
    event = {
        "event_id": str(uuid.uuid4()),
        "camera_id": "cam-edge",
        "location": "시험 도로",
        "detected_speed": 97.3,
        "speed_limit": 60.0,
        "detected_at": datetime.now(KST).isoformat(timespec="milliseconds"),
    }
    register_test_camera("cam-edge", location="시험 도로")
    spool.add(event, image, hashlib.sha256(image).hexdigest())
    return {**event, "image": image}


class Listener:
    """A second MQTT subscriber on detections/new: what exactly went over the wire."""

    def __init__(self, services) -> None:
        self.payloads: list[dict] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listener-{uuid.uuid4().hex[:6]}")
        self.client.username_pw_set(services.env["MQTT_USERNAME"], services.env["MQTT_PASSWORD"])
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_connect = lambda client, *args: client.subscribe(f"{TOPIC_DETECTIONS_NEW}/+", qos=1)
        self.client.on_message = lambda client, userdata, message: self.payloads.append(json.loads(message.payload))
        self.client.connect("127.0.0.1", services.mqtt_port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_spooled_violation_is_uploaded_published_and_recorded(pipeline, tmp_path: Path) -> None:
    services = pipeline.services
    spool = Spool(tmp_path, max_items=10, max_bytes=10_000_000)
    listener = Listener(services)
    violation = spooled_violation(spool, "12가3456")
    with Uplink(services.edge_config(publish_timeout_s=5)) as uplink:
        assert Forwarder(spool, uplink).drain_once() == 1
    assert spool.all() == []

    event_id = violation["event_id"]
    name = f"detections/cam-edge/{datetime.fromisoformat(violation['detected_at']):%Y/%m/%d}/{event_id}.jpg"
    assert services.storage().bucket(services.bucket).blob(name).download_as_bytes() == violation["image"]
    [payload] = wait_for(lambda: [p for p in listener.payloads if p["event_id"] == event_id], what="the payload")
    listener.close()
    sent = {key: value for key, value in violation.items() if key not in ("image", "detected_at")}
    assert {key: value for key, value in payload.items() if key != "detected_at"} == sent | {
        "image_gcs_uri": f"gs://{services.bucket}/{name}",
        "image_sha256": hashlib.sha256(violation["image"]).hexdigest(),
    }
    assert datetime.fromisoformat(payload["detected_at"]) == datetime.fromisoformat(violation["detected_at"])
    detection = wait_detection(event_id)
    assert detection.status == "completed" and detection.ocr_result == "12가3456"
    assert detection.camera_id == "cam-edge" and detection.detected_speed == 97.3


def test_violations_during_a_broker_outage_are_all_delivered_once_it_is_back(pipeline, tmp_path: Path) -> None:
    services = pipeline.services
    roles = (pipeline.subscriber, pipeline.ocr, pipeline.alert)
    assert all(role.is_ready() for role in roles)
    spool = Spool(tmp_path, max_items=100, max_bytes=50_000_000, retry_initial_s=0.5, retry_max_s=2)
    uplink = Uplink(services.edge_config(publish_timeout_s=5))
    uplink.start()
    assert uplink.wait_connected(10)
    stopping = threading.Event()
    sender = threading.Thread(target=Forwarder(spool, uplink).run, args=(stopping,), kwargs={"idle_s": 0.2})
    sender.start()
    event_ids = []
    try:
        services.stop_rabbitmq()
        wait_for(lambda: not uplink.connected, timeout=15, what="the edge to notice the outage")
        # Without their broker, the roles say they are not ready (what an orchestrator acts on).
        wait_for(lambda: not any(role.is_ready() for role in roles), timeout=30, what="the roles to say not ready")
        for plate in ("12가3456", "34나5678", "56라7890"):
            event_ids.append(spooled_violation(spool, plate)["event_id"])
        time.sleep(2)  # the forwarder tries, fails and keeps them
        assert {v.event_id for v in spool.all()} == set(event_ids)

        # The edge restarts during the outage: the spool is on disk.
        stopping.set()
        sender.join(10)
        spool.close()
        spool = Spool(tmp_path, max_items=100, max_bytes=50_000_000, retry_initial_s=0.5, retry_max_s=2)
        assert {v.event_id for v in spool.all()} == set(event_ids)
        event_ids.append(spooled_violation(spool, "78마1234")["event_id"])
        stopping = threading.Event()
        sender = threading.Thread(target=Forwarder(spool, uplink).run, args=(stopping,), kwargs={"idle_s": 0.2})
        sender.start()
    finally:
        services.start_rabbitmq()
    try:
        wait_for(lambda: spool.stats()["items"] == 0, timeout=120, what="the spool to drain")
    finally:
        stopping.set()
        sender.join(10)
        uplink.close()
    for event_id in event_ids:
        wait_detection(event_id, timeout=90)
    assert Detection.objects.filter(event_id__in=event_ids).count() == len(event_ids)
    # That every role consumes again after an outage is the rabbitmq-restart drill's to check:
    # Celery reconnects on its own backoff (2, 4, 6... s), too slow to wait for here.


def test_edge_run_on_a_recording_delivers_each_violation(pipeline, tmp_path: Path) -> None:
    services = pipeline.services
    truth = generate(tmp_path, vehicles=6, seed=11)
    config = yaml.safe_load((tmp_path / "cam.yaml").read_text("utf-8"))
    config["backend"] = services.edge_backend(client_id=f"test-edge-run-{uuid.uuid4().hex[:6]}")
    (tmp_path / "cam.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    register_test_camera(config["camera_id"], location=config["location"], speed_limit=config["speed_limit_kmh"])

    result = subprocess.run(
        [sys.executable, "-m", "edge", "run", "--config", str(tmp_path / "cam.yaml")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    violations = [line for line in map(json.loads, result.stdout.splitlines()) if line.get("over_limit")]
    assert violations, result.stdout
    detections = wait_for(
        lambda: (
            (found := list(Detection.objects.filter(camera_id="cam-synthetic")))
            and len(found) >= len(violations)
            and found
        ),
        timeout=60,
        what="the violations in the backend",
    )
    assert len(detections) == len(violations)
    truths = sorted(v["speed_kmh"] for v in truth["vehicles"])
    for detection in detections:
        # The measurement rides along; the speed on the ticket is below it and below the truth.
        true_speed = min(truths, key=lambda speed: abs(speed - detection.measured_speed))
        assert abs(detection.measured_speed - true_speed) / true_speed <= 0.05
        deductions = detection.speed_uncertainty + detection.speed_tolerance
        assert detection.detected_speed == pytest.approx(detection.measured_speed - deductions, abs=1e-6)
        assert detection.detected_speed <= true_speed * 1.01
        assert detection.speed_limit == 80 and detection.image_gcs_uri.startswith(f"gs://{services.bucket}/detections/")
    assert Spool(tmp_path / "spool", max_items=10, max_bytes=10_000_000).stats()["items"] == 0
    # Where the edge found the plate travels with the event (not on every vehicle: a white
    # car hides a white plate from a brightness threshold).
    assert any(detection.plate_bbox for detection in detections)
