"""MQTT clients for the backend: one factory, and a per-process QoS-1 publisher.

RabbitMQ 3.10's MQTT plugin speaks 3.1/3.1.1 only, so every client is MQTTv311.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

import paho.mqtt.client as mqtt
from django.conf import settings

logger = logging.getLogger(__name__)


class MqttPublishError(RuntimeError):
    """The broker did not confirm (PUBACK) a QoS-1 publish in time. Transient."""


def new_client(*, client_id: str, clean_session: bool, manual_ack: bool = False) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=clean_session,
        manual_ack=manual_ack,
    )
    client.username_pw_set(settings.MQTT_USERNAME, settings.MQTT_PASSWORD)
    if settings.MQTT_TLS:
        # Verifies the broker's certificate and its name (paho's defaults).
        client.tls_set(ca_certs=settings.BROKER_TLS_CA_FILE or None)
    client.reconnect_delay_set(min_delay=1, max_delay=settings.MQTT_RECONNECT_MAX_S)
    return client


class MqttPublisher:
    """One connection per process; `publish` returns only after the broker's PUBACK."""

    def __init__(self, client_id_prefix: str) -> None:
        self._client_id = f"{client_id_prefix}-{socket.gethostname()}-{os.getpid()}"
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client: mqtt.Client | None = None

    def _ensure_connected(self) -> mqtt.Client:
        with self._lock:
            if self._client is None:
                client = new_client(client_id=self._client_id, clean_session=True)
                client.on_connect = self._on_connect
                client.on_disconnect = self._on_disconnect
                client.connect_async(settings.MQTT_HOST, settings.MQTT_PORT, keepalive=settings.MQTT_KEEPALIVE_S)
                client.loop_start()
                self._client = client
        if not self._connected.wait(settings.MQTT_PUBLISH_TIMEOUT_S):
            raise MqttPublishError(f"not connected to MQTT {settings.MQTT_HOST}:{settings.MQTT_PORT}")
        return self._client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("mqtt publisher connect refused: %s", reason_code)
            return
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        logger.warning("mqtt publisher disconnected: %s", reason_code)

    def publish(self, topic: str, payload: str, *, qos: int = 1) -> None:
        client = self._ensure_connected()
        info = client.publish(topic, payload, qos=qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttPublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout=settings.MQTT_PUBLISH_TIMEOUT_S)
        except (RuntimeError, ValueError) as exc:
            raise MqttPublishError(f"publish to {topic} not confirmed: {exc}") from exc
        if not info.is_published():
            raise MqttPublishError(f"no PUBACK for {topic} within {settings.MQTT_PUBLISH_TIMEOUT_S}s")

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.disconnect()
                self._client.loop_stop()
                self._client = None
                self._connected.clear()


_publishers: dict[tuple[int, str], MqttPublisher] = {}
_publishers_lock = threading.Lock()


def process_publisher(client_id_prefix: str) -> MqttPublisher:
    """The publisher of this process (a fresh one after a fork: sockets are not shared)."""
    key = (os.getpid(), client_id_prefix)
    with _publishers_lock:
        if key not in _publishers:
            _publishers[key] = MqttPublisher(client_id_prefix)
        return _publishers[key]
