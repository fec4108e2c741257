"""Backend connection settings of the edge: from the camera YAML (`run`, `spool`) or,
for `python -m edge sample`, from the environment."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from edge.camera_config import CameraConfig


def _require_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None
    if not 0 < value < 65536:
        raise SystemExit(f"{name} must be a TCP port, got {value}")
    return value


@dataclass(frozen=True)
class EdgeConfig:
    mqtt_host: str
    mqtt_port: int
    mqtt_username: str
    mqtt_password: str
    mqtt_client_id: str
    bucket: str
    storage_emulator_host: str
    publish_timeout_s: float = 15.0
    # MQTTS: verify the broker against this CA file (None: the system's trust store).
    mqtt_tls: bool = False
    mqtt_ca_file: str | None = None
    # Set for a unit that speaks as one camera: its last will and heartbeats name it.
    camera_id: str | None = None
    heartbeat_s: float = 60.0

    @classmethod
    def from_env(cls) -> EdgeConfig:
        tls = os.environ.get("MQTT_TLS", "false").strip().lower() in ("1", "true", "yes", "on")
        return cls(
            mqtt_host=os.environ.get("MQTT_HOST", "127.0.0.1"),
            mqtt_port=_require_int("MQTT_PORT", 8883 if tls else 1883),
            mqtt_username=os.environ.get("MQTT_USERNAME", "speedcam"),
            mqtt_password=os.environ.get("MQTT_PASSWORD", "speedcam-pass"),
            mqtt_client_id=os.environ.get("EDGE_CLIENT_ID", f"speedcam-edge-{socket.gethostname()}-{os.getpid()}"),
            bucket=os.environ.get("GCS_BUCKET_NAME", "speedcam-images"),
            storage_emulator_host=os.environ.get("STORAGE_EMULATOR_HOST", ""),
            camera_id=os.environ.get("EDGE_CAMERA_ID") or None,
            mqtt_tls=tls,
            mqtt_ca_file=os.environ.get("BROKER_TLS_CA_FILE") or None,
        )

    @classmethod
    def from_camera(cls, camera: CameraConfig) -> EdgeConfig:
        backend = camera.backend
        return cls(
            mqtt_host=backend.mqtt_host,
            mqtt_port=backend.mqtt_port,
            mqtt_username=backend.mqtt_username,
            mqtt_password=backend.password(),
            # Per device: the broker closes an older connection that reuses an id.
            mqtt_client_id=backend.client_id or f"speedcam-edge-{camera.camera_id}",
            bucket=backend.bucket,
            storage_emulator_host=backend.storage_emulator_host or os.environ.get("STORAGE_EMULATOR_HOST", ""),
            publish_timeout_s=backend.publish_timeout_s,
            camera_id=camera.camera_id,
            heartbeat_s=backend.heartbeat_s,
            mqtt_tls=backend.tls,
            mqtt_ca_file=str(backend.ca_file) if backend.ca_file else None,
        )
