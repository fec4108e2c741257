"""Queue topology on the real RabbitMQ."""

from __future__ import annotations

import json
import urllib.request
from base64 import b64encode

import pytest
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError

from backend.messaging.topology import (
    ALL_QUEUES,
    DLQ_QUEUE,
    FCM_QUEUE,
    INGEST_QUEUE,
    celery_config,
    declare_topology,
    mqtt_topic,
    ocr_priority,
)
from harness.services import TestServices


@pytest.mark.parametrize(
    ("speed", "limit", "priority"),
    [(61, 60, 1), (66, 60, 2), (90, 60, 6), (114, 60, 10), (200, 60, 10), (50, 60, 1), (80, 0, 1)],
)
def test_priority_grows_with_overspeed(speed: float, limit: float, priority: int) -> None:
    assert ocr_priority(speed, limit) == priority


def test_celery_settings_carry_the_delivery_guarantees() -> None:
    config = celery_config(broker_url="amqp://x", ocr_time_limit_s=60, alert_time_limit_s=30)
    assert config["task_serializer"] == "json" and config["accept_content"] == ["json"]
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["result_backend"] == "django-db"
    assert config["task_annotations"]["ocr.process_detection"]["soft_time_limit"] == 60
    assert {queue.name for queue in config["task_queues"]} == {"ocr_queue", "fcm_queue", "maintenance_queue"}
    assert config["task_routes"]["maintenance.sweep_stale_work"]["queue"] == "maintenance_queue"


def test_beat_schedule_lives_here_and_late_runs_expire() -> None:
    config = celery_config(
        broker_url="amqp://x", ocr_time_limit_s=60, alert_time_limit_s=30, sweep_interval_s=30, retention_interval_s=900
    )
    schedule = config["beat_schedule"]
    assert schedule["sweep-stale-work"]["task"] == "maintenance.sweep_stale_work"
    assert schedule["sweep-stale-work"]["schedule"] == 30 and schedule["sweep-stale-work"]["options"]["expires"] == 30
    assert schedule["apply-retention"]["schedule"] == 900
    assert schedule["refresh-hourly-counts"]["task"] == "maintenance.refresh_hourly_counts"
    assert config["task_routes"]["maintenance.refresh_hourly_counts"]["queue"] == "maintenance_queue"


def test_ingest_queue_binds_every_backend_topic_on_amq_topic() -> None:
    keys = {binding.routing_key for binding in INGEST_QUEUE.bindings}
    assert keys == {"detections.new.*", "detections.completed", "vehicles.fcm_token_retired", "cameras.*.status"}
    assert all(binding.exchange.name == "amq.topic" for binding in INGEST_QUEUE.bindings)
    assert mqtt_topic("detections.new.cam-01") == "detections/new/cam-01"


def _management_queue(services: TestServices, name: str) -> dict:
    url = f"{services.env['RABBITMQ_MANAGEMENT_URL']}/api/queues/speedcam/{name}"
    request = urllib.request.Request(url)
    credentials = f"{services.env['MQTT_USERNAME']}:{services.env['MQTT_PASSWORD']}"
    request.add_header("Authorization", "Basic " + b64encode(credentials.encode()).decode())
    return json.load(urllib.request.urlopen(request, timeout=10))


def test_declared_queues_have_the_contract_arguments(services: TestServices) -> None:
    with services.amqp() as connection:
        declare_topology(connection)
        declare_topology(connection)  # idempotent: identical arguments every time
    ocr = _management_queue(services, "ocr_queue")
    assert ocr["durable"] is True
    assert ocr["arguments"] == {
        "x-message-ttl": 3600000,
        "x-max-priority": 10,
        "x-dead-letter-exchange": "dlq_exchange",
    }
    fcm = _management_queue(services, "fcm_queue")
    assert fcm["arguments"] == {"x-message-ttl": 3600000, "x-dead-letter-exchange": "dlq_exchange"}
    assert _management_queue(services, "dlq_queue")["durable"] is True


def test_a_declarer_with_other_arguments_is_refused(services: TestServices) -> None:
    with services.amqp() as connection:
        declare_topology(connection)
        wrong = Queue(
            "ocr_queue",
            Exchange("ocr_exchange", type="direct"),
            routing_key="ocr",
            queue_arguments={"x-message-ttl": 1000},
        )
        with pytest.raises((OperationalError, Exception), match="inequivalent arg"):
            wrong(connection.channel()).declare()


def test_a_rejected_message_lands_in_the_dead_letter_queue(services: TestServices) -> None:
    # A private queue with the same dead-letter wiring: ocr_queue may have a live consumer.
    probe = Queue(
        "dlq_probe_queue",
        Exchange("dlq_probe_exchange", type="direct"),
        routing_key="probe",
        auto_delete=True,
        queue_arguments={"x-dead-letter-exchange": DLQ_QUEUE.exchange.name},
    )
    with services.amqp() as connection:
        declare_topology(connection)
        services.purge("dlq_queue")
        connection.Producer().publish(
            {"probe": 1}, exchange=probe.exchange, routing_key="probe", serializer="json", declare=[probe]
        )
        message = probe(connection.default_channel).get()
        assert message is not None
        message.reject(requeue=False)
        dead = None
        for _ in range(50):
            dead = DLQ_QUEUE(connection.default_channel).get()
            if dead is not None:
                break
        assert dead is not None and dead.headers["x-first-death-reason"] == "rejected"
        assert dead.headers["x-first-death-queue"] == "dlq_probe_queue"
        dead.ack()


def test_dead_letter_queue_is_declared_first() -> None:
    assert ALL_QUEUES[0] is DLQ_QUEUE
    assert FCM_QUEUE.queue_arguments["x-dead-letter-exchange"] == DLQ_QUEUE.exchange.name
