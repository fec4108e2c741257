"""Evidence upload to GCS and the `detections/new` publish, each confirmed."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from datetime import datetime

import paho.mqtt.client as mqtt
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from backend.contracts.events import CameraStatusEvent, DetectionNewEvent, camera_status_topic, detections_new_topic
from edge.config import EdgeConfig


def evidence_object_name(camera_id: str, detected_at: datetime, event_id: uuid.UUID) -> str:
    """Deterministic per event: a re-upload after a crash overwrites, never duplicates."""
    return f"detections/{camera_id}/{detected_at:%Y/%m/%d}/{event_id}.jpg"


class Uplink:
    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        if config.storage_emulator_host:
            os.environ["STORAGE_EMULATOR_HOST"] = config.storage_emulator_host
            self._storage = storage.Client(project="speedcam-local", credentials=AnonymousCredentials())
        else:
            self._storage = storage.Client()
        self._mqtt = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=config.mqtt_client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self._mqtt.username_pw_set(config.mqtt_username, config.mqtt_password)
        if config.mqtt_tls:
            # paho verifies the certificate chain and the broker's name by default.
            self._mqtt.tls_set(ca_certs=config.mqtt_ca_file)
        if config.camera_id:
            # The broker publishes this for us if the unit vanishes without saying goodbye.
            offline = CameraStatusEvent(camera_id=config.camera_id, state="offline")
            self._mqtt.will_set(camera_status_topic(config.camera_id), offline.to_json(), qos=1)
        self._connected = threading.Event()
        self._mqtt.on_connect = lambda client, userdata, flags, rc, props: (
            self._connected.set() if not rc.is_failure else None
        )
        self._mqtt.on_disconnect = lambda *args: self._connected.clear()

    def start(self) -> None:
        """Connect in the background; paho reconnects by itself after any loss."""
        self._mqtt.reconnect_delay_set(min_delay=1, max_delay=30)
        self._mqtt.connect_async(self.config.mqtt_host, self.config.mqtt_port, keepalive=30)
        self._mqtt.loop_start()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def __enter__(self) -> Uplink:
        self.start()
        if not self._connected.wait(15):
            self.close()
            raise ConnectionError(f"MQTT {self.config.mqtt_host}:{self.config.mqtt_port} refused or unreachable")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._mqtt.disconnect()
        self._mqtt.loop_stop()

    def upload_evidence(
        self, image: bytes, *, camera_id: str, detected_at: datetime, event_id: uuid.UUID
    ) -> tuple[str, str]:
        """Upload the snapshot; return (gs:// URI, sha256 hex)."""
        name = evidence_object_name(camera_id, detected_at, event_id)
        blob = self._storage.bucket(self.config.bucket).blob(name)
        # A bounded retry: a long outage is the spool's business, not this call's.
        blob.upload_from_string(image, content_type="image/jpeg", timeout=30, retry=DEFAULT_RETRY.with_timeout(20))
        return f"gs://{self.config.bucket}/{name}", hashlib.sha256(image).hexdigest()

    def publish_detection(self, event: DetectionNewEvent, *, timeout_s: float | None = None) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK. Raises ConnectionError or
        TimeoutError; the caller keeps the violation and tries again later."""
        timeout_s = timeout_s or self.config.publish_timeout_s
        if not self.connected:
            raise ConnectionError(f"MQTT {self.config.mqtt_host}:{self.config.mqtt_port} not connected")
        info = self._mqtt.publish(detections_new_topic(event.camera_id), event.to_json(), qos=1)
        try:
            info.wait_for_publish(timeout=timeout_s)
        except RuntimeError as error:  # the connection dropped while waiting
            raise ConnectionError(str(error)) from error
        if not info.is_published():
            raise TimeoutError(f"no PUBACK for event {event.event_id} within {timeout_s}s")

    def publish_status(self, counters: dict[str, int] | None = None, *, state: str = "online") -> bool:
        """Heartbeat on `cameras/<id>/status`, best effort: False when not connected."""
        if not self.config.camera_id or not self.connected:
            return False
        status = CameraStatusEvent(
            camera_id=self.config.camera_id,
            state=state,
            sent_at=datetime.now().astimezone().isoformat(timespec="seconds"),
            counters=counters or {},
        )
        self._mqtt.publish(camera_status_topic(self.config.camera_id), status.to_json(), qos=1)
        return True

    def report_violation(
        self,
        image: bytes,
        *,
        camera_id: str,
        location: str,
        detected_speed: float,
        speed_limit: float,
        detected_at: datetime,
        event_id: uuid.UUID | None = None,
    ) -> DetectionNewEvent:
        event_id = event_id or uuid.uuid4()
        uri, sha256 = self.upload_evidence(image, camera_id=camera_id, detected_at=detected_at, event_id=event_id)
        event = DetectionNewEvent(
            event_id=str(event_id),
            camera_id=camera_id,
            location=location,
            detected_speed=detected_speed,
            speed_limit=speed_limit,
            detected_at=detected_at.isoformat(timespec="milliseconds"),
            image_gcs_uri=uri,
            image_sha256=sha256,
        )
        self.publish_detection(event)
        return event
