"""The real backing services of the test profile, driven through the project's own scripts."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from kombu import Connection

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILE_ENV = {"SPEEDCAM_PROFILE": "test"}
# What a script run on its own service profile (drills, the TLS profile) takes from this
# session: not the test profile's service variables (DB_PORT=…), which would point it here.
OUTSIDE_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CI", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"}


def outside_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key in OUTSIDE_ENV}


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def documented_settings() -> set[str]:
    """Every variable backend.env.example documents."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (REPO_ROOT / "backend.env.example").read_text(), flags=re.MULTILINE))


def profile_shell(profile: str, *commands: str, env: dict[str, str] | None = None) -> str:
    """Run shell commands with scripts/lib/common.sh loaded for a service profile."""
    script = f'. "{REPO_ROOT}/scripts/lib/common.sh"; ' + "; ".join(commands)
    result = subprocess.run(
        ["bash", "-c", script],
        env={**(env or os.environ), "SPEEDCAM_PROFILE": profile},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{commands} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _common(*commands: str) -> str:
    return profile_shell(PROFILE_ENV["SPEEDCAM_PROFILE"], *commands)


class TestServices:
    __test__ = False  # not a test class

    def __init__(self) -> None:
        *lines, prometheus_port = _common("service_env", 'echo "$RMQ_PROMETHEUS_PORT"').split()
        self.env = dict(line.split("=", 1) for line in lines)
        self.bucket = self.env["GCS_BUCKET_NAME"]
        self.broker_url = self.env["CELERY_BROKER_URL"]
        self.mqtt_port = int(self.env["MQTT_PORT"])
        self.fcm = FcmEmulator(self.env["FCM_ENDPOINT"])
        self.otlp = OtlpReceiver(self.env["OTLP_RECEIVER_URL"])
        self.rabbitmq_prometheus_port = int(prometheus_port)

    # --- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        subprocess.run([str(REPO_ROOT / "scripts/services.sh"), "start"], env={**os.environ, **PROFILE_ENV}, check=True)

    def stop(self) -> None:
        subprocess.run([str(REPO_ROOT / "scripts/services.sh"), "stop"], env={**os.environ, **PROFILE_ENV}, check=False)

    def grant_db_roles(self) -> None:
        """The worker roles' table grants on pytest's databases (they exist only now)."""
        _common("grant_db_roles test_")

    def database_sessions(self, role: str) -> set[int]:
        """The ids of the database server's open sessions of a role's own user."""
        if not role.isidentifier():
            raise ValueError(f"not a role: {role!r}")
        sessions = _common(
            f"user=$(role_db_user {role})",
            '''mariadb_root -N -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '$user'"''',
        )
        return {int(line) for line in sessions.split()}

    def end_database_sessions(self, ids: set[int]) -> None:
        """End these sessions from the server's side, as a restart or an idle timeout would."""
        _common(*(f'mariadb_root -e "KILL CONNECTION {id_}" || true' for id_ in sorted(ids)))

    def stop_gcs(self) -> None:
        _common("stop_gcs", 'for _ in $(seq 50); do port_open "$GCS_PORT" || exit 0; sleep 0.1; done; exit 1')

    def start_gcs(self) -> None:
        _common("start_gcs")

    def stop_rabbitmq(self) -> None:
        _common(
            "stop_rabbitmq", 'for _ in $(seq 100); do port_open "$RMQ_MQTT_PORT" || exit 0; sleep 0.1; done; exit 1'
        )

    def start_rabbitmq(self) -> None:
        _common("start_rabbitmq")

    # --- GCS -----------------------------------------------------------------------
    def storage(self) -> storage.Client:
        os.environ["STORAGE_EMULATOR_HOST"] = self.env["STORAGE_EMULATOR_HOST"]
        return storage.Client(project="speedcam-test", credentials=AnonymousCredentials())

    def upload(self, data: bytes, name: str | None = None) -> str:
        name = name or f"tests/{uuid.uuid4()}.jpg"
        self.storage().bucket(self.bucket).blob(name).upload_from_string(data, content_type="image/jpeg")
        return f"gs://{self.bucket}/{name}"

    def edge_backend(self, client_id: str | None = None) -> dict[str, Any]:
        """The `backend:` block of an edge unit's cam.yaml, pointing at these services."""
        return {
            "mqtt_host": "127.0.0.1",
            "mqtt_port": self.mqtt_port,
            "mqtt_username": self.env["MQTT_USERNAME"],
            "mqtt_password": self.env["MQTT_PASSWORD"],
            "client_id": client_id or f"test-edge-{uuid.uuid4().hex[:6]}",
            "bucket": self.bucket,
            "storage_emulator_host": self.env["STORAGE_EMULATOR_HOST"],
        }

    def edge_config(self, **overrides: Any) -> Any:
        """Backend connection settings for an edge unit talking to these services."""
        from edge.config import EdgeConfig

        values = self.edge_backend()
        values["mqtt_client_id"] = values.pop("client_id")
        return EdgeConfig(**{**values, **overrides})

    # --- AMQP ----------------------------------------------------------------------
    def amqp(self) -> Connection:
        return Connection(self.broker_url)

    def queue_depth(self, name: str) -> int:
        with self.amqp() as connection:
            _, count, _ = connection.default_channel.queue_declare(queue=name, passive=True)
            return count

    def purge(self, *names: str) -> None:
        with self.amqp() as connection:
            for name in names:
                connection.default_channel.queue_purge(name)

    # --- MQTT ----------------------------------------------------------------------
    def mqtt_publish(self, topic: str, payloads: list[bytes | str]) -> None:
        """Publish at QoS 1 and wait for every PUBACK."""
        connected = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-publisher-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv311
        )
        client.username_pw_set(self.env["MQTT_USERNAME"], self.env["MQTT_PASSWORD"])
        client.on_connect = lambda *args: connected.set()
        client.connect("127.0.0.1", self.mqtt_port)
        client.loop_start()
        try:
            assert connected.wait(10), "MQTT connect timed out"
            for payload in payloads:
                info = client.publish(topic, payload, qos=1)
                info.wait_for_publish(timeout=10)
                assert info.is_published()
        finally:
            client.disconnect()
            client.loop_stop()


class FcmEmulator:
    """Control and read the local FCM endpoint (scripts/fcm_emulator.py)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()

    def configure(self, *, latency_ms: float = 0, rules: list[dict[str, Any]] | None = None) -> None:
        self._post("/_control/config", {"latency_ms": latency_ms, "rules": rules or []})

    def reset(self) -> None:
        self._post("/_control/reset", {})

    def state(self) -> dict[str, Any]:
        return json.load(urllib.request.urlopen(f"{self.base_url}/_control/messages", timeout=10))

    def summary(self) -> dict[str, Any]:
        """The counts alone (accepted, refused, in flight...): cheap to poll."""
        return json.load(urllib.request.urlopen(f"{self.base_url}/_control/summary", timeout=10))

    def messages_to(self, token: str) -> list[dict[str, Any]]:
        return [m["message"] for m in self.state()["messages"] if m["message"].get("token") == token]

    def refused_for(self, token: str) -> list[dict[str, Any]]:
        return [m for m in self.state()["refused"] if m["message"].get("token") == token]


class OtlpReceiver:
    """Read the spans the roles exported to the local OTLP receiver (scripts/otlp_receiver.py)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def spans(self, trace_id: str | None = None) -> list[dict[str, Any]]:
        query = f"?trace_id={trace_id}" if trace_id else ""
        return json.load(urllib.request.urlopen(f"{self.base_url}/_control/spans{query}", timeout=10))["spans"]

    def timeline_url(self, trace_id: str) -> str:
        return f"{self.base_url}/_control/timeline?trace_id={trace_id}"
