"""Cameras as provisioned identities, on the real broker with its permissions enforced."""

from __future__ import annotations

import io
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command

from backend.cameras.models import Camera
from backend.contracts.events import (
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_FCM_TOKEN_RETIRED,
    camera_status_topic,
    detections_new_topic,
)
from backend.detections.models import Detection, RejectedEvent
from edge.uplink import Uplink
from harness.processes import wait_for
from tests.support.events import encode, publish_detections, uploaded_event
from tests.support.pipeline import wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
LOCATION = "부산 해운대구 센텀중앙로 55"


def provision(camera_id: str, **extra: str) -> str:
    """Provision through the management command; return the camera's broker password."""
    out = io.StringIO()
    call_command(
        "provision_camera",
        camera_id,
        "--location",
        LOCATION,
        "--limit",
        "50",
        stdout=out,
        stderr=io.StringIO(),
        **extra,
    )
    text = out.getvalue()
    assert "mqtt_username: camera-" + camera_id in text and "mqtt_password_env: SPEEDCAM_MQTT_PASSWORD" in text
    [line] = [line for line in text.splitlines() if line.startswith("SPEEDCAM_MQTT_PASSWORD=")]
    return line.split("=", 1)[1]


class CameraClient:
    """An MQTT connection with a camera's own credentials."""

    def __init__(self, services, camera_id: str, password: str, *, client_id: str | None = None) -> None:
        self.disconnected = threading.Event()
        self.connected = threading.Event()
        self.suback: list = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"speedcam-edge-{camera_id}-{uuid.uuid4().hex[:4]}",
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(f"camera-{camera_id}", password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set() if not rc.is_failure else None
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.suback.extend(codes)
        self.client.connect("127.0.0.1", services.mqtt_port)
        self.client.loop_start()
        assert self.connected.wait(10), "camera could not connect"

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_provisioned_camera_reports_with_the_registry_s_place_and_limit(pipeline) -> None:
    password = provision("cam-p1")
    camera = CameraClient(pipeline.services, "cam-p1", password)
    try:
        # The payload says another place and limit: the registry's values are stored.
        event = uploaded_event(
            pipeline.services,
            "12가3456",
            camera_id="cam-p1",
            location="http://phish.example",
            speed_limit=80.0,
            detected_speed=88.0,
        )
        info = camera.publish(detections_new_topic("cam-p1"), encode(event))
        info.wait_for_publish(10)
        detection = wait_detection(event["event_id"])
    finally:
        camera.close()
    assert (detection.location, detection.speed_limit, detection.camera_id) == (LOCATION, 50.0, "cam-p1")
    assert Camera.objects.get(camera_id="cam-p1").last_seen_at is not None


@pytest.mark.parametrize(
    "topic",
    [
        detections_new_topic("cam-p2-other"),
        TOPIC_DETECTIONS_COMPLETED,
        TOPIC_FCM_TOKEN_RETIRED,
        camera_status_topic("cam-p2-other"),
    ],
)
def test_a_camera_may_publish_nowhere_but_on_its_own_topics(pipeline, topic: str) -> None:
    provision("cam-p2-other")
    password = provision("cam-p2")
    camera = CameraClient(pipeline.services, "cam-p2", password)
    try:
        camera.publish(topic, b'{"forged": true}')
        # RabbitMQ closes the connection of a client that publishes where it may not.
        assert camera.disconnected.wait(10), f"publish to {topic} was not refused"
    finally:
        camera.close()
    assert not RejectedEvent.objects.filter(topic=topic).exists()  # it never reached ingest


def test_a_camera_can_read_nothing(pipeline) -> None:
    camera = CameraClient(pipeline.services, "cam-p3", provision("cam-p3"))
    try:
        camera.client.subscribe("#", qos=1)
        refused = wait_for(lambda: camera.suback or camera.disconnected.is_set(), timeout=10, what="SUBACK")
        assert camera.disconnected.is_set() or all(code.is_failure for code in refused)
    finally:
        camera.close()


def test_a_camera_cannot_take_the_subscriber_s_session(pipeline) -> None:
    """Even knowing the subscriber's client id, a camera gets none of its messages: it may
    not read or own the session queue. The subscriber reconnects and loses nothing."""
    password = provision("cam-p4")
    received: list[bytes] = []
    thief = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=pipeline.env["MQTT_CLIENT_ID"],
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    thief.username_pw_set("camera-cam-p4", password)
    thief.on_message = lambda client, userdata, message: received.append(message.payload)
    thief.on_connect = lambda client, *args: client.subscribe("detections/new/+", qos=1)
    thief.connect("127.0.0.1", pipeline.services.mqtt_port)
    thief.loop_start()
    try:
        time.sleep(2)
        event = uploaded_event(pipeline.services, "12가3456")
        publish_detections(pipeline.services, [event])
        assert wait_detection(event["event_id"], timeout=60).status == "completed"
    finally:
        thief.disconnect()
        thief.loop_stop()
    assert received == []


def test_heartbeat_and_last_will_record_liveness(pipeline) -> None:
    password = provision("cam-p5")
    config = pipeline.services.edge_config(
        mqtt_username="camera-cam-p5", mqtt_password=password, camera_id="cam-p5", mqtt_client_id="edge-cam-p5"
    )
    uplink = Uplink(config)
    uplink.start()
    assert uplink.wait_connected(10)
    assert uplink.publish_status({"measured": 3, "unmeasurable_track_broken": 1})
    camera = wait_for(
        lambda: (c := Camera.objects.get(camera_id="cam-p5")).last_state == "online" and c, what="heartbeat"
    )
    assert camera.last_counters == {"measured": 3, "unmeasurable_track_broken": 1}
    reported = pipeline.subscriber_metric(
        "speedcam_camera_reported", camera_id="cam-p5", counter="unmeasurable_track_broken"
    )
    assert reported == 1  # an operator sees a camera that keeps failing to measure, per reason
    # The unit vanishes without a DISCONNECT: the broker publishes its last will.
    uplink._mqtt.socket().close()
    uplink._mqtt.loop_stop()
    wait_for(lambda: Camera.objects.get(camera_id="cam-p5").last_state == "offline", timeout=60, what="last will")
    # The ingest endpoint counts it among the silent cameras (read at scrape time).
    assert pipeline.subscriber_metric("speedcam_cameras_silent") >= 1


def test_a_retired_camera_is_cut_off_and_its_events_refused(pipeline) -> None:
    password = provision("cam-p6")
    call_command("retire_camera", "cam-p6", stdout=io.StringIO())
    refused = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="edge-cam-p6", protocol=mqtt.MQTTv311)
    refused.username_pw_set("camera-cam-p6", password)
    codes: list = []
    refused.on_connect = lambda c, u, f, rc, p: codes.append(rc)
    refused.connect("127.0.0.1", pipeline.services.mqtt_port)
    refused.loop_start()
    try:
        wait_for(lambda: codes, timeout=10, what="CONNACK")
        assert codes[0].is_failure
    finally:
        refused.loop_stop()
    # An event that was in flight when it was retired is parked, not stored.
    event = uploaded_event(pipeline.services, "12가3456", camera_id="cam-p6")
    pipeline.services.mqtt_publish(detections_new_topic("cam-p6"), [encode(event)])
    wait_for(lambda: RejectedEvent.objects.filter(reason="inactive_camera").exists(), what="parked")
    assert not Detection.objects.filter(event_id=event["event_id"]).exists()
