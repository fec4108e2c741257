"""The main role's MQTT subscriber: `python manage.py run_mqtt_subscriber`.

Delivery guarantees:
* A fixed client id with a persistent session (clean_session=False): QoS-1
  messages published while the subscriber is down wait in RabbitMQ for it.
* Manual acknowledgement: PUBACK goes to the broker only after the message's
  effect is committed (detection row written, task confirmed by RabbitMQ).
  A message whose handling fails transiently is retried in place a few times,
  then the connection is dropped so the broker redelivers it.
* An invalid message is logged with its reason, counted and acknowledged: it
  can never succeed, and it must not block the messages behind it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import close_old_connections, connections

from backend.contracts.events import (
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_DETECTIONS_NEW,
    TOPIC_FCM_TOKEN_RETIRED,
    EventRejected,
)
from backend.ingest import metrics
from backend.ingest.services import (
    Outcome,
    handle_detection_completed,
    handle_detection_new,
    handle_fcm_token_retired,
)
from backend.messaging.mqtt import new_client

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[bytes], Outcome]] = {
    TOPIC_DETECTIONS_NEW: handle_detection_new,
    TOPIC_DETECTIONS_COMPLETED: handle_detection_completed,
    TOPIC_FCM_TOKEN_RETIRED: handle_fcm_token_retired,
}
# In-place retries stay well inside the MQTT keepalive: the network loop is blocked meanwhile.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)


class MqttSubscriber:
    def __init__(self, *, client_id: str) -> None:
        self.client_id = client_id
        self._stopping = threading.Event()
        self._client: mqtt.Client | None = None

    def run(self) -> None:
        """Consume until `stop()` (SIGTERM/SIGINT); reconnect with backoff on any loss."""
        backoff = 1.0
        while not self._stopping.is_set():
            client = new_client(client_id=self.client_id, clean_session=False, manual_ack=True)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_message = self._on_message
            client.on_subscribe = self._on_subscribe
            self._client = client
            try:
                client.connect(settings.MQTT_HOST, settings.MQTT_PORT, keepalive=settings.MQTT_KEEPALIVE_S)
            except OSError as exc:
                logger.warning(
                    "mqtt connect to %s:%s failed: %s; retrying in %.0fs",
                    settings.MQTT_HOST,
                    settings.MQTT_PORT,
                    exc,
                    backoff,
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, settings.MQTT_RECONNECT_MAX_S)
                continue
            backoff = 1.0
            # loop_forever reconnects by itself after an unexpected loss; it returns
            # after an explicit disconnect (stop, or a message we must see redelivered).
            client.loop_forever(retry_first_connection=True)
        logger.info("mqtt subscriber stopped")

    def stop(self, *_: Any) -> None:
        self._stopping.set()
        if self._client is not None:
            self._client.disconnect()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            logger.error("mqtt connect refused: %s", reason_code)
            return
        logger.info(
            "mqtt subscriber connected",
            extra={"client_id": self.client_id, "session_present": flags.session_present},
        )
        client.subscribe([(topic, 1) for topic in HANDLERS])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            logger.error("mqtt subscribe refused: %s", ", ".join(failed))
            return
        logger.info("mqtt subscriber subscribed", extra={"topics": list(HANDLERS)})

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if not self._stopping.is_set():
            logger.warning("mqtt subscriber disconnected: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        started = time.monotonic()
        metrics.MESSAGES_RECEIVED.labels(topic).inc()
        if self._handle(topic, message.payload):
            client.ack(message.mid, message.qos)
            metrics.HANDLE_SECONDS.labels(topic).observe(time.monotonic() - started)
        else:
            # Not acknowledged: drop the connection so the broker redelivers it.
            client.disconnect()

    def _handle(self, topic: str, payload: bytes) -> bool:
        """Return True when the message may be acknowledged."""
        handler = HANDLERS.get(topic)
        if handler is None:
            self._reject(topic, EventRejected("unknown_topic", f"no handler for topic {topic!r}"), payload)
            return True
        for attempt, delay in enumerate((*RETRY_DELAYS_S, None)):
            close_old_connections()
            try:
                outcome = handler(payload)
            except EventRejected as rejection:
                self._reject(topic, rejection, payload)
                return True
            except Exception:
                metrics.MESSAGE_ERRORS.labels(topic).inc()
                logger.exception("handling %s failed (attempt %d)", topic, attempt + 1)
                connections.close_all()
                if delay is None or self._stopping.wait(delay):
                    return False
                continue
            metrics.MESSAGES_PROCESSED.labels(topic, outcome.value).inc()
            return True
        return False

    @staticmethod
    def _reject(topic: str, rejection: EventRejected, payload: bytes) -> None:
        metrics.MESSAGES_REJECTED.labels(topic, rejection.reason).inc()
        logger.warning(
            "message rejected",
            extra={
                "topic": topic,
                "reason": rejection.reason,
                "detail": rejection.detail,
                "payload_head": payload[:200].decode("utf-8", "replace"),
            },
        )
