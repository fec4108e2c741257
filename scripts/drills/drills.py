"""Driver of scripts/drills/run (run it through that script: it starts the services)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import django

django.setup()

import paho.mqtt.client as mqtt
from django.db import connections

from backend.contracts.events import detections_new_topic
from backend.detections.evidence_urls import read_evidence
from backend.detections.models import Detection
from backend.notifications.models import Notification
from harness import workload
from harness.processes import Roles, wait_for
from harness.services import FcmEmulator

DRILLS = (
    "ocr-kill",
    "alert-kill",
    "rabbitmq-restart",
    "mariadb-restart",
    "subscriber-restart",
    "fcm-5xx",
    "bad-input",
    "backup-restore",
)
LOG_DIR = REPO_ROOT / ".state" / "drill" / "logs"
ROLE_ENV = {
    "OCR_MOCK": "true",
    "OCR_MOCK_LATENCY_MS": "40",  # work is in flight when the fault hits
    "OCR_CONCURRENCY": "2",
    "OCR_TIME_LIMIT_S": "10",
    "OCR_MAX_RETRIES": "10",
    "OCR_RETRY_BACKOFF_S": "0.5",
    "OCR_RETRY_BACKOFF_MAX_S": "5",
    "FCM_MOCK": "false",
    "FCM_TIMEOUT_S": "2",
    "ALERT_CONCURRENCY": "20",
    "ALERT_CLAIM_STALE_S": "5",
    "ALERT_MAX_RETRIES": "10",
    "ALERT_RETRY_BACKOFF_S": "0.5",
    "ALERT_RETRY_BACKOFF_MAX_S": "5",
    "GCS_RETRY_DEADLINE_S": "2",
    "SWEEP_INTERVAL_S": "5",
    "SWEEP_OCR_STALE_S": "20",
    "SWEEP_ALERT_STALE_S": "20",
    "MQTT_CLIENT_ID": "speedcam-drill-subscriber",
    "INGEST_METRICS_PORT": "0",
    "OCR_METRICS_PORT": "0",
    "ALERT_METRICS_PORT": "0",
    "MAINTENANCE_METRICS_PORT": "0",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
    "PYTHONUNBUFFERED": "1",
}


def common_sh(*commands: str) -> None:
    script = f'. "{REPO_ROOT}/scripts/lib/common.sh"; ' + "; ".join(commands)
    subprocess.run(["bash", "-c", script], env={**os.environ, "SPEEDCAM_PROFILE": "drill"}, check=True)


def db(query: Callable[[], object]) -> object:
    """Run a query, reconnecting after a MariaDB restart."""
    for attempt in range(60):
        try:
            return query()
        except Exception:
            connections.close_all()
            if attempt == 59:
                raise
            time.sleep(1)
    return None


class Publisher:
    """The edge's side: a QoS-1 publish is repeated until the broker acknowledged it, as
    the edge's spool does (the event_id makes a repeat harmless)."""

    RESEND_AFTER_S = 5.0

    def __init__(self, payloads: list[bytes], topic: str) -> None:
        self.payloads = payloads
        self.topic = topic
        self._lock = threading.Lock()
        self._in_flight: dict[int, int] = {}  # mid -> payload index
        self._sent_at: dict[int, float] = {}  # payload index -> last publish
        self.acknowledged: set[int] = set()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"drill-edge-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv311
        )
        self.client.username_pw_set(os.environ["MQTT_USERNAME"], os.environ["MQTT_PASSWORD"])
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_publish = self._on_publish
        self.client.connect(os.environ["MQTT_HOST"], int(os.environ["MQTT_PORT"]))
        self.client.loop_start()

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason_code: object, properties: object
    ) -> None:
        with self._lock:
            index = self._in_flight.pop(mid, None)
            if index is not None:
                self.acknowledged.add(index)

    def _publish(self, index: int) -> None:
        with self._lock:
            info = self.client.publish(self.topic, self.payloads[index], qos=1)
            self._in_flight[info.mid] = index
            self._sent_at[index] = time.monotonic()

    def publish_all(self, rate: float, on_progress: Callable[[int], None]) -> None:
        started = time.monotonic()
        for index in range(len(self.payloads)):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._publish(index)
            on_progress(index + 1)

    def wait_acknowledged(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < len(self.payloads) and time.monotonic() < deadline:
            time.sleep(0.5)
            if not self.client.is_connected():
                continue
            now = time.monotonic()
            for index in range(len(self.payloads)):
                if index not in self.acknowledged and now - self._sent_at[index] > self.RESEND_AFTER_S:
                    self._publish(index)
        self.client.disconnect()
        self.client.loop_stop()
        return len(self.acknowledged)


# --- the faults ------------------------------------------------------------------------


def kill_ocr_mid_task(roles: Roles, fcm: FcmEmulator) -> str:
    db(lambda: wait_for(lambda: Detection.objects.filter(status="processing").exists(), timeout=30, interval=0.01))
    roles.restart(roles.ocr)
    return "OCR worker (parent and children) killed with SIGKILL while a detection was processing"


def kill_alert_mid_send(roles: Roles, fcm: FcmEmulator) -> str:
    fcm.configure(latency_ms=300)  # sends take long enough to be caught in flight
    db(
        lambda: wait_for(
            lambda: Notification.objects.filter(status="pending", claim_token__isnull=False).exists(),
            timeout=30,
            interval=0.01,
        )
    )
    roles.restart(roles.alert)
    fcm.configure(latency_ms=0)
    return "alert worker killed with SIGKILL while pushes were in flight"


def restart_rabbitmq(roles: Roles, fcm: FcmEmulator) -> str:
    common_sh("stop_rabbitmq", 'for _ in $(seq 100); do port_open "$RMQ_AMQP_PORT" || break; sleep 0.1; done')
    time.sleep(2)
    common_sh("start_rabbitmq >/dev/null")
    return "RabbitMQ (AMQP + MQTT) stopped and started again"


def restart_mariadb(roles: Roles, fcm: FcmEmulator) -> str:
    common_sh("stop_mariadb", 'for _ in $(seq 100); do port_open "$DB_PORT" || break; sleep 0.1; done')
    time.sleep(3)
    common_sh("start_mariadb >/dev/null")
    return "MariaDB stopped for 3 s and started again"


def restart_subscriber(roles: Roles, fcm: FcmEmulator) -> str:
    roles.restart(roles.subscriber)
    return "MQTT subscriber killed with SIGKILL and started again"


def fcm_outage(roles: Roles, fcm: FcmEmulator) -> str:
    fcm.configure(rules=[{"error": "UNAVAILABLE"}])
    time.sleep(8)
    fcm.configure(rules=[])
    return "FCM answered 503 UNAVAILABLE to every push for 8 s"


FAULTS: dict[str, Callable[[Roles, FcmEmulator], str]] = {
    "ocr-kill": kill_ocr_mid_task,
    "alert-kill": kill_alert_mid_send,
    "rabbitmq-restart": restart_rabbitmq,
    "mariadb-restart": restart_mariadb,
    "subscriber-restart": restart_subscriber,
    "fcm-5xx": fcm_outage,
}


# --- one drill -------------------------------------------------------------------------


def _fresh_batch(count: int) -> tuple[FcmEmulator, list[dict], set[str]]:
    """Empty tables, queues and FCM record; `count` violations of the drill camera, evidence uploaded."""
    fcm = FcmEmulator(os.environ["FCM_ENDPOINT"])
    db(workload.reset)
    batch = workload.events(count, workload.upload_images(), camera_id="cam-drill")
    return fcm, batch, {event["event_id"] for event in batch}


def _drill_camera_publisher(batch: list[dict]) -> Publisher:
    return Publisher(
        [json.dumps(event, ensure_ascii=False).encode() for event in batch], detections_new_topic("cam-drill")
    )


def run_drill(name: str, *, count: int, rate: float, timeout: float) -> dict:
    fcm, batch, event_ids = _fresh_batch(count)
    roles = Roles.from_environment(LOG_DIR, ROLE_ENV)
    roles.start()
    started = time.monotonic()
    fault_at = max(1, count * 3 // 10)
    fault_started = threading.Event()
    fault_result: dict[str, str] = {}

    def inject() -> None:
        fault_started.wait()
        try:
            fault_result["what"] = FAULTS[name](roles, fcm)
        except Exception as error:  # the drill reports it; the verdict fails
            fault_result["error"] = f"{type(error).__name__}: {error}"

    injector = threading.Thread(target=inject)
    injector.start()
    try:
        publisher = _drill_camera_publisher(batch)
        publisher.publish_all(rate, lambda published: published >= fault_at and fault_started.set())
        fault_started.set()
        injector.join()
        acknowledged = publisher.wait_acknowledged(timeout)
        settled = _wait_settled(event_ids, deadline=started + timeout)
        consuming = _all_consuming(roles, timeout=60)
    finally:
        roles.stop()
    verdict = _verdict(event_ids, fcm)
    verdict.update(
        drill=name,
        fault=fault_result.get("what") or fault_result.get("error", "not injected"),
        published=count,
        broker_acknowledged=acknowledged,
        settled_in_time=settled,
        roles_consuming_after=consuming,
        seconds=round(time.monotonic() - started, 1),
    )
    verdict["pass"] = (
        "error" not in fault_result
        and settled
        and consuming
        and verdict["lost"] == 0
        and verdict["not_final"] == 0
        and verdict["duplicate_pushes"] == 0
        and verdict["unexplained_missing_pushes"] == 0
    )
    return verdict


def _all_consuming(roles: Roles, *, timeout: float) -> bool:
    """Whether every role says it is ready again (each worker's /ready) within `timeout`."""
    deadline = time.monotonic() + timeout
    while not all(process.is_ready() for process in roles.all):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _wait_settled(event_ids: set[str], *, deadline: float) -> bool:
    def settled() -> bool:
        detections = list(Detection.objects.filter(event_id__in=event_ids).values("id", "status", "vehicle_id"))
        if len(detections) < len(event_ids) or any(d["status"] not in ("completed", "failed") for d in detections):
            return False
        matched = [d["id"] for d in detections if d["status"] == "completed" and d["vehicle_id"]]
        final = Notification.objects.filter(detection_id__in=matched).exclude(status="pending").count()
        return final == len(matched)

    while time.monotonic() < deadline:
        if db(settled):
            return True
        time.sleep(0.5)
    return False


def _verdict(event_ids: set[str], fcm: FcmEmulator) -> dict:
    detections = db(lambda: list(Detection.objects.filter(event_id__in=event_ids).values("id", "status", "vehicle_id")))
    statuses = Counter(d["status"] for d in detections)
    matched = {d["id"] for d in detections if d["status"] == "completed" and d["vehicle_id"]}
    notifications = db(lambda: list(Notification.objects.filter(detection_id__in=matched)))
    pushes = Counter(int(m["message"]["data"]["detection_id"]) for m in fcm.state()["messages"])
    unknown = {n.detection_id for n in notifications if n.delivery_unknown}
    sent = {n.detection_id for n in notifications if n.status == "sent"}
    return {
        "stored": len(detections),
        "lost": len(event_ids) - len(detections),
        "completed": statuses["completed"],
        "failed": statuses["failed"],
        "not_final": sum(n for status, n in statuses.items() if status not in ("completed", "failed")),
        "matched": len(matched),
        "pushes": sum(pushes.values()),
        "sent_recorded": len(sent),
        "duplicate_pushes": sum(n - 1 for n in pushes.values() if n > 1),
        "delivery_unknown": len(unknown),
        "unexplained_missing_pushes": len({d for d in matched if d not in pushes and d not in unknown}),
    }


# --- the backup/restore drill: a populated system lost entirely, then restored --------------


def _violations_served(token: str) -> list[dict]:
    """What an operator's API client sees, without the expiring snapshot links."""
    from django.test import Client

    connections.close_all()
    rows: list[dict] = []
    url: str | None = "/api/v1/violations/"
    while url:  # every page
        response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        rows += body["results"]
        url = body["next"]
    return sorted(({k: v for k, v in row.items() if "url" not in k} for row in rows), key=lambda row: row["id"])


def _evidence_objects() -> dict[str, str]:
    """Every object in the evidence bucket: name -> MD5."""
    from backend.common.gcs import storage_client

    client = storage_client()
    return {blob.name: blob.md5_hash for blob in client.list_blobs(client.bucket(os.environ["GCS_BUCKET_NAME"]))}


def _destroy_everything() -> None:
    """The disaster: the four databases dropped and created empty, the bucket emptied."""
    from backend.common.gcs import storage_client

    connections.close_all()
    names = [connections[alias].settings_dict["NAME"] for alias in connections]
    statements = " ".join(
        f"DROP DATABASE \\`{name}\\`; CREATE DATABASE \\`{name}\\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        for name in names
    )
    common_sh(f'mariadb_root -e "{statements}"')
    client = storage_client()
    for blob in client.list_blobs(client.bucket(os.environ["GCS_BUCKET_NAME"])):
        blob.delete()


def _manage(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def run_backup_restore(*, count: int, rate: float, timeout: float) -> dict:
    """Populate through the real pipeline, back up, lose every database and object, restore:
    the API must serve the same violations and every evidence object must be back intact."""
    fcm, batch, event_ids = _fresh_batch(count)
    roles = Roles.from_environment(LOG_DIR, ROLE_ENV)
    roles.start()
    started = time.monotonic()
    try:
        publisher = _drill_camera_publisher(batch)
        publisher.publish_all(rate, lambda _: None)
        publisher.wait_acknowledged(timeout)
        settled = _wait_settled(event_ids, deadline=started + timeout)
        consuming = _all_consuming(roles, timeout=60)
    finally:
        roles.stop()
    verdict = _verdict(event_ids, fcm)
    token = _manage("create_api_token", f"drill-operator-{uuid.uuid4().hex[:6]}", "--role", "operator").strip()
    served_before, objects_before = _violations_served(token), _evidence_objects()
    with tempfile.TemporaryDirectory(prefix="speedcam-backup-") as directory:
        backup_started = time.monotonic()
        _manage("backup", f"{directory}/backup")
        backup_s = time.monotonic() - backup_started
        backup_bytes = sum(path.stat().st_size for path in Path(directory).rglob("*") if path.is_file())
        _destroy_everything()
        objects_after_loss = len(_evidence_objects())
        restore_started = time.monotonic()
        _manage("restore", f"{directory}/backup")
        common_sh("grant_db_roles")
        restore_s = time.monotonic() - restore_started
    served_after, objects_after = _violations_served(token), _evidence_objects()
    evidence_intact = sum(
        1
        for detection in db(lambda: list(Detection.objects.filter(event_id__in=event_ids)))
        if hashlib.sha256(read_evidence(detection)).hexdigest() == detection.image_sha256
    )
    verdict.update(
        drill="backup-restore",
        fault=f"dropped the 4 databases, deleted {len(objects_before)} evidence objects",
        published=count,
        settled_in_time=settled,
        roles_consuming_after=consuming,
        violations_served=len(served_before),
        violations_after_restore=len(served_after),
        objects=len(objects_before),
        evidence_intact=evidence_intact,
        backup_s=round(backup_s, 1),
        restore_s=round(restore_s, 1),
        backup_bytes=backup_bytes,
        seconds=round(time.monotonic() - started, 1),
    )
    verdict["pass"] = (
        settled
        and consuming
        and verdict["lost"] == 0
        and len(served_before) > 0
        and served_after == served_before
        and objects_after == objects_before
        and objects_after_loss == 0
        and evidence_intact == verdict["stored"]
    )
    return verdict


# --- the bad-input drill: a compromised camera, with its own valid credentials -----------

HOSTILE_CAMERA, VICTIM_CAMERA = "cam-hostile", "cam-victim"
VALID_WITHIN_S = 5.0


def _camera_connection(camera_id: str, password: str) -> tuple[mqtt.Client, threading.Event]:
    closed = threading.Event()
    connected = threading.Event()
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"drill-{camera_id}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311
    )
    client.username_pw_set(f"camera-{camera_id}", password)
    client.max_inflight_messages_set(100)
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else closed.set()
    client.on_disconnect = lambda *args: closed.set()
    client.connect(os.environ["MQTT_HOST"], int(os.environ["MQTT_PORT"]))
    client.loop_start()
    if not connected.wait(10):
        raise RuntimeError(f"camera {camera_id} could not connect")
    return client, closed


def _refused_by_broker(camera_id: str, password: str, topic: str, payload: bytes) -> bool:
    """Publish once on a fresh connection: True when the broker never acknowledged it. It
    closes the connection for a topic the user may not write, and fails the channel (no
    PUBACK, nothing routed) for a message over max_message_size."""
    client, closed = _camera_connection(camera_id, password)
    try:
        info = client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not closed.is_set() and not info.is_published():
            time.sleep(0.02)
        return not info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def _purge_subscriber_session() -> None:
    """An earlier, interrupted run may have left messages in the subscriber's MQTT session."""
    from amqp.exceptions import NotFound
    from kombu import Connection

    with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
        try:
            connection.default_channel.queue_purge(f"mqtt-subscription-{ROLE_ENV['MQTT_CLIENT_ID']}qos1")
        except NotFound:
            print("    (no subscriber session yet)", flush=True)


def run_bad_input(*, hostile: int, valid: int, timeout: float) -> dict:
    from backend.cameras.services import register_camera
    from backend.contracts.events import (
        MAX_MQTT_PACKET_BYTES,
        TOPIC_DETECTIONS_COMPLETED,
        TOPIC_FCM_TOKEN_RETIRED,
        camera_status_topic,
    )
    from backend.detections.models import RejectedEvent
    from backend.messaging.broker_admin import BrokerAdmin, new_password
    from scripts.drills.hostile import hostile_payloads

    started = time.monotonic()
    db(workload.reset)
    _purge_subscriber_session()
    bucket = os.environ["GCS_BUCKET_NAME"]
    admin = BrokerAdmin(
        os.environ["RABBITMQ_MANAGEMENT_URL"],
        os.environ["MQTT_USERNAME"],
        os.environ["MQTT_PASSWORD"],
        vhost="speedcam",
    )
    passwords = {}
    for camera_id in (HOSTILE_CAMERA, VICTIM_CAMERA):
        register_camera(camera_id, location="시험 도로", speed_limit=60.0, mqtt_username=f"camera-{camera_id}")
        passwords[camera_id] = new_password()
        admin.provision_camera(camera_id, f"camera-{camera_id}", passwords[camera_id])
    # The victim's real evidence, which the hostile camera will point at; and the hostile
    # camera's own valid events for after the storm, their evidence uploaded beforehand.
    [victim_event] = workload.events(1, workload.upload_images(), camera_id=VICTIM_CAMERA)
    victim_object = victim_event["image_gcs_uri"].split("/", 3)[3]
    valid_events = workload.events(valid, workload.upload_images(), camera_id=HOSTILE_CAMERA)
    payloads = list(
        hostile_payloads(
            hostile,
            camera_id=HOSTILE_CAMERA,
            victim_camera_id=VICTIM_CAMERA,
            victim_object=victim_object,
            bucket=bucket,
            location="시험 도로",
            limit=60.0,
        )
    )
    roles = Roles.from_environment(LOG_DIR, ROLE_ENV, periodic_jobs=False)
    roles.start((roles.subscriber,))
    try:
        # 1. Everything on its own topic, where the broker lets it publish.
        client, _ = _camera_connection(HOSTILE_CAMERA, passwords[HOSTILE_CAMERA])
        storm_started = time.monotonic()
        infos = [client.publish(detections_new_topic(HOSTILE_CAMERA), payload, qos=1) for _, payload in payloads]
        publish_deadline = time.monotonic() + 300
        for info in infos:
            info.wait_for_publish(timeout=max(0.1, publish_deadline - time.monotonic()))
        acknowledged = sum(info.is_published() for info in infos)
        # 2. Where it may not publish at all, and a packet over the broker's size limit.
        attempts = {
            "victim's topic": (detections_new_topic(VICTIM_CAMERA), json.dumps(victim_event).encode()),
            "victim's status": (camera_status_topic(VICTIM_CAMERA), b'{"camera_id": "cam-victim", "state": "offline"}'),
            "detections/completed": (TOPIC_DETECTIONS_COMPLETED, b'{"detection_id": 1}'),
            "fcm token retired": (TOPIC_FCM_TOKEN_RETIRED, b'{"vehicle_id": 1}'),
            "over 64 KiB": (detections_new_topic(HOSTILE_CAMERA), b"{" + b" " * MAX_MQTT_PACKET_BYTES + b"}"),
        }
        refused = {
            what: _refused_by_broker(HOSTILE_CAMERA, passwords[HOSTILE_CAMERA], topic, payload)
            for what, (topic, payload) in attempts.items()
        }
        not_refused = sum(not r for r in refused.values())

        def parked() -> int:
            return RejectedEvent.objects.filter(camera_id=HOSTILE_CAMERA).count()

        deadline = started + timeout
        while db(parked) < acknowledged + not_refused and time.monotonic() < deadline:
            time.sleep(0.2)
        hostile_done = time.monotonic()
        # 3. The camera behaves again: every valid event must get through at once.
        for event in valid_events:
            client.publish(detections_new_topic(HOSTILE_CAMERA), json.dumps(event, ensure_ascii=False), qos=1)
        valid_ids = {event["event_id"] for event in valid_events}
        while time.monotonic() < deadline:
            if db(lambda: Detection.objects.filter(event_id__in=valid_ids).count()) == len(valid_ids):
                break
            time.sleep(0.05)
        valid_stored_after = time.monotonic() - hostile_done
        client.disconnect()
        client.loop_stop()
    finally:
        roles.stop()
    valid_stored = db(lambda: Detection.objects.filter(event_id__in=valid_ids).count())
    hostile_rows = db(
        lambda: (
            Detection.objects.filter(camera_id__in=[HOSTILE_CAMERA, VICTIM_CAMERA])
            .exclude(event_id__in=valid_ids)
            .count()
        )
    )
    reasons = Counter(
        db(lambda: list(RejectedEvent.objects.filter(camera_id=HOSTILE_CAMERA).values_list("reason", flat=True)))
    )
    parked_count = sum(reasons.values())
    result = {
        "drill": "bad-input",
        "hostile_published": len(payloads),
        "broker_acknowledged": acknowledged,
        "parked": parked_count,
        "refused_by_broker": sum(refused.values()),
        "refusals": refused,
        "unaccounted": len(payloads) + len(attempts) - parked_count - sum(refused.values()),
        "rows_from_hostile": hostile_rows,
        "valid_published": len(valid_ids),
        "valid_stored": valid_stored,
        "valid_stored_within_s": round(valid_stored_after, 2),
        "parked_per_s": round(parked_count / max(hostile_done - storm_started, 1e-6), 1),
        "reasons": dict(reasons.most_common()),
        "categories": dict(Counter(category for category, _ in payloads)),
        "seconds": round(time.monotonic() - started, 1),
        # The shape the other drills report, for the summary table.
        "stored": valid_stored,
        "lost": len(valid_ids) - valid_stored,
        "failed": 0,
        "pushes": 0,
        "duplicate_pushes": 0,
        "delivery_unknown": 0,
    }
    result["pass"] = (
        hostile_rows == 0
        and result["unaccounted"] == 0
        and valid_stored == len(valid_ids)
        and valid_stored_after <= VALID_WITHIN_S
        and all(refused[what] for what in attempts if what != "over 64 KiB")
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description="SpeedCam fault drills")
    parser.add_argument("name", choices=(*DRILLS, "all"))
    parser.add_argument("--count", type=int, default=1000, help="detections per drill")
    parser.add_argument("--rate", type=float, default=50.0, help="detections published per second")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for one drill to settle")
    parser.add_argument("--keep", action="store_true", help="leave the services running")
    parser.add_argument("--hostile", type=int, default=10_000, help="hostile payloads in the bad-input drill")
    args = parser.parse_args()
    names = DRILLS if args.name == "all" else (args.name,)
    results = []
    for name in names:
        if name == "backup-restore":
            print(f"--- drill {name}: {args.count} detections, backed up, every database and object lost, restored")
            result = run_backup_restore(count=args.count, rate=args.rate, timeout=args.timeout)
            results.append(result)
            print(
                f"drill {name}: {'PASS' if result['pass'] else 'FAIL'} violations={result['violations_served']} "
                f"after_restore={result['violations_after_restore']} objects={result['objects']} "
                f"evidence_intact={result['evidence_intact']}/{result['stored']} backup={result['backup_s']} s "
                f"restore={result['restore_s']} s ({result['backup_bytes']} bytes)",
                flush=True,
            )
            continue
        if name == "bad-input":
            print(f"--- drill {name}: {args.hostile} hostile payloads, then valid events", flush=True)
            result = run_bad_input(hostile=args.hostile, valid=50, timeout=args.timeout)
            results.append(result)
            _print_bad_input(result)
            continue
        print(f"--- drill {name}: {args.count} detections at {args.rate:g}/s", flush=True)
        result = run_drill(name, count=args.count, rate=args.rate, timeout=args.timeout)
        results.append(result)
        print(f"    fault: {result['fault']}", flush=True)
        print(
            f"drill {name}: {'PASS' if result['pass'] else 'FAIL'} published={result['published']} "
            f"stored={result['stored']} lost={result['lost']} completed={result['completed']} "
            f"failed={result['failed']} not_final={result['not_final']} pushes={result['pushes']} "
            f"duplicate_pushes={result['duplicate_pushes']} delivery_unknown={result['delivery_unknown']} "
            f"({result['seconds']} s)",
            flush=True,
        )
    print()
    print(
        f"{'drill':20} {'verdict':7} {'stored':>7} {'lost':>5} {'failed':>6} {'pushes':>7} {'dup':>4} "
        f"{'unknown':>7} {'s':>6}"
    )
    for r in results:
        print(
            f"{r['drill']:20} {'PASS' if r['pass'] else 'FAIL':7} {r['stored']:>7} {r['lost']:>5} {r['failed']:>6} "
            f"{r['pushes']:>7} {r['duplicate_pushes']:>4} {r['delivery_unknown']:>7} {r['seconds']:>6}"
        )
    print(json.dumps({"drills": results, "all_passed": all(r["pass"] for r in results)}, ensure_ascii=False))
    return 0 if all(r["pass"] for r in results) else 1


def _print_bad_input(result: dict) -> None:
    print(
        f"drill bad-input: {'PASS' if result['pass'] else 'FAIL'} hostile={result['hostile_published']} "
        f"parked={result['parked']} refused_by_broker={result['refused_by_broker']} "
        f"unaccounted={result['unaccounted']} rows_from_hostile={result['rows_from_hostile']} "
        f"valid={result['valid_stored']}/{result['valid_published']} in {result['valid_stored_within_s']} s "
        f"({result['parked_per_s']} parked/s, {result['seconds']} s)",
        flush=True,
    )
    print(f"    {'parked for':32} {'count':>6}")
    for reason, count in result["reasons"].items():
        print(f"    {reason:32} {count:>6}")
    for what, was_refused in result["refusals"].items():
        print(f"    broker {'refused' if was_refused else 'ACCEPTED'}: publish to {what}")


if __name__ == "__main__":
    sys.exit(main())
