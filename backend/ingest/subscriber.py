"""The main role's MQTT subscriber: `python manage.py run_mqtt_subscriber`.

Delivery guarantees:
* A fixed client id with a persistent session (clean_session=False): QoS-1
  messages published while the subscriber is down wait in RabbitMQ for it.
* Manual acknowledgement: PUBACK goes to the broker only after the message's
  effect is committed (detection row written, task confirmed by RabbitMQ).
  A message whose handling fails transiently is retried in place a few times,
  then the connection is dropped so the broker redelivers it.
* Micro-batches: messages are applied INGEST_BATCH_SIZE at a time, or what arrived
  within INGEST_BATCH_WAIT_MS of the first (backend.ingest.handling.Batch). A batch
  still waiting when the connection drops is never acknowledged: the broker
  redelivers it, and storing is idempotent on event_id. RabbitMQ's `mqtt.prefetch`
  must be at least the batch size, or batches are cut short.
* An invalid message is logged with its reason, counted and acknowledged: it
  can never succeed, and it must not block the messages behind it.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings

from backend.common import role_endpoint
from backend.ingest.handling import Batch
from backend.messaging.mqtt import new_client
from backend.messaging.topology import INGEST_TOPICS

logger = logging.getLogger(__name__)


class MqttSubscriber:
    def __init__(self, *, client_id: str) -> None:
        self.client_id = client_id
        self._stopping = threading.Event()
        self._batch: Batch[mqtt.MQTTMessage] = Batch(settings.INGEST_BATCH_SIZE, settings.INGEST_BATCH_WAIT_MS / 1000)

    def run(self) -> None:
        """Consume until `stop()` (SIGTERM/SIGINT); reconnect with backoff on any loss."""
        backoff = 1.0
        while not self._stopping.is_set():
            client = new_client(client_id=self.client_id, clean_session=False, manual_ack=True)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_message = self._on_message
            client.on_subscribe = self._on_subscribe
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
            self._consume(client)
            self._stopping.wait(1.0)  # as paho's own reconnect: not in a tight loop
        logger.info("mqtt subscriber stopped")

    def _consume(self, client: mqtt.Client) -> None:
        """Run the network loop, applying the batch when it is due, until the connection
        is lost (the next client reconnects) or a stop finishes the batch in hand."""
        while not self._stopping.is_set():
            if client.loop(timeout=self._batch.seconds_left(idle_s=1.0)) != mqtt.MQTT_ERR_SUCCESS:
                self._batch.drop()  # unacknowledged: redelivered to the next connection
                return
            if self._batch.due:
                self._apply_batch(client)
        self._apply_batch(client)
        client.disconnect()
        for _ in range(20):  # send the last acknowledgements and the DISCONNECT
            if client.socket() is None:
                break
            client.loop(timeout=0.05)

    def _apply_batch(self, client: mqtt.Client) -> None:
        redeliver = False
        for message, acknowledge in self._batch.apply(self._stopping):
            if acknowledge:
                client.ack(message.mid, message.qos)
            else:
                redeliver = True
        if redeliver:
            # Not acknowledged: drop the connection so the broker redelivers them.
            client.disconnect()

    def stop(self, *_: Any) -> None:
        self._stopping.set()

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
        client.subscribe([(topic, 1) for topic in INGEST_TOPICS])

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            logger.error("mqtt subscribe refused: %s", ", ".join(failed))
            return
        logger.info("mqtt subscriber subscribed", extra={"topics": list(INGEST_TOPICS)})
        role_endpoint.mark_consuming(True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        role_endpoint.mark_consuming(False)
        if not self._stopping.is_set():
            logger.warning("mqtt subscriber disconnected: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._batch.add(message, message.topic, message.payload)
        if self._batch.full:
            self._apply_batch(client)
