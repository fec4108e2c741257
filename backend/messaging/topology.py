"""The AMQP topology and Celery routing: the one place they are declared.

RabbitMQ refuses to re-declare a queue with different arguments
(406 PRECONDITION_FAILED), so Django, both Celery workers and the scripts all
declare through the objects below and nothing else.
"""

from __future__ import annotations

import math
from typing import Any

from kombu import Connection, Exchange, Queue, binding

from backend.contracts.events import TOPIC_DETECTIONS_COMPLETED, TOPIC_DETECTIONS_NEW, TOPIC_FCM_TOKEN_RETIRED

MESSAGE_TTL_MS = 3_600_000
OCR_MAX_PRIORITY = 10

OCR_TASK = "ocr.process_detection"
ALERT_TASK = "alert.send_notification"
SWEEP_TASK = "maintenance.sweep_stale_work"
RETENTION_TASK = "maintenance.apply_retention"
HOURLY_COUNTS_TASK = "maintenance.refresh_hourly_counts"

DLQ_EXCHANGE = Exchange("dlq_exchange", type="fanout", durable=True)
DLQ_QUEUE = Queue("dlq_queue", exchange=DLQ_EXCHANGE, durable=True)

OCR_EXCHANGE = Exchange("ocr_exchange", type="direct", durable=True)
OCR_ROUTING_KEY = "ocr"
OCR_QUEUE = Queue(
    "ocr_queue",
    exchange=OCR_EXCHANGE,
    routing_key=OCR_ROUTING_KEY,
    durable=True,
    queue_arguments={
        "x-message-ttl": MESSAGE_TTL_MS,
        "x-max-priority": OCR_MAX_PRIORITY,
        "x-dead-letter-exchange": DLQ_EXCHANGE.name,
    },
)

FCM_EXCHANGE = Exchange("fcm_exchange", type="direct", durable=True)
FCM_ROUTING_KEY = "fcm"
FCM_QUEUE = Queue(
    "fcm_queue",
    exchange=FCM_EXCHANGE,
    routing_key=FCM_ROUTING_KEY,
    durable=True,
    queue_arguments={
        "x-message-ttl": MESSAGE_TTL_MS,
        "x-dead-letter-exchange": DLQ_EXCHANGE.name,
    },
)

# The main role's periodic jobs. No TTL or dead-lettering: a missed run is replaced by
# the next one, and a late one expires (see beat_schedule).
MAINTENANCE_EXCHANGE = Exchange("maintenance_exchange", type="direct", durable=True)
MAINTENANCE_ROUTING_KEY = "maintenance"
MAINTENANCE_QUEUE = Queue(
    "maintenance_queue", exchange=MAINTENANCE_EXCHANGE, routing_key=MAINTENANCE_ROUTING_KEY, durable=True
)

# Scale-out ingest (INGEST_MODE=amqp): RabbitMQ's MQTT plugin publishes every MQTT
# message to amq.topic with "/" turned into "."; this durable queue collects the
# backend's topics for any number of competing `run_amqp_ingest` consumers. It is
# declared only in that mode: nobody would drain it otherwise.
MQTT_EXCHANGE = Exchange("amq.topic", type="topic", durable=True, no_declare=True)
# MQTT topic filters of everything ingest consumes: each camera's own topics ("+" is one
# camera id) and the backend's events.
INGEST_TOPICS = (
    f"{TOPIC_DETECTIONS_NEW}/+",
    TOPIC_DETECTIONS_COMPLETED,
    TOPIC_FCM_TOKEN_RETIRED,
    "cameras/+/status",
)


def mqtt_routing_key(topic: str) -> str:
    """The AMQP routing key (or binding pattern) of an MQTT topic (or filter)."""
    return topic.replace("/", ".").replace("+", "*")


def mqtt_topic(routing_key: str) -> str:
    return routing_key.replace(".", "/")


INGEST_QUEUE = Queue(
    "ingest_queue",
    durable=True,
    bindings=[binding(MQTT_EXCHANGE, routing_key=mqtt_routing_key(topic)) for topic in INGEST_TOPICS],
)

# The dead-letter target goes first: it must exist before any task can be rejected,
# or RabbitMQ silently drops the rejected message.
ALL_QUEUES: tuple[Queue, ...] = (DLQ_QUEUE, OCR_QUEUE, FCM_QUEUE, MAINTENANCE_QUEUE)
TASK_QUEUES: dict[str, Queue] = {
    OCR_TASK: OCR_QUEUE,
    ALERT_TASK: FCM_QUEUE,
    SWEEP_TASK: MAINTENANCE_QUEUE,
    RETENTION_TASK: MAINTENANCE_QUEUE,
    HOURLY_COUNTS_TASK: MAINTENANCE_QUEUE,
}


def beat_schedule(
    *, sweep_interval_s: float, retention_interval_s: float, hourly_counts_interval_s: float = 60.0
) -> dict[str, dict[str, Any]]:
    """Celery beat's schedule. Each run expires after one interval: when the
    maintenance worker was down, the backlog collapses into the next run."""
    return {
        "sweep-stale-work": {
            "task": SWEEP_TASK,
            "schedule": sweep_interval_s,
            "options": {"expires": sweep_interval_s},
        },
        "apply-retention": {
            "task": RETENTION_TASK,
            "schedule": retention_interval_s,
            "options": {"expires": retention_interval_s},
        },
        "refresh-hourly-counts": {
            "task": HOURLY_COUNTS_TASK,
            "schedule": hourly_counts_interval_s,
            "options": {"expires": hourly_counts_interval_s},
        },
    }


def declare_topology(connection: Connection) -> None:
    """Declare every exchange, queue and binding. Idempotent."""
    channel = connection.default_channel
    for queue in ALL_QUEUES:
        queue(channel).declare()


def declare_ingest_queue(connection: Connection) -> None:
    """Declare the scale-out ingest queue and its bindings. Idempotent."""
    INGEST_QUEUE(connection.default_channel).declare()


def ocr_priority(detected_speed: float, speed_limit: float) -> int:
    """OCR priority 1..10, one step per 10 % over the limit.

    10 % over -> 2, 50 % over -> 6, 90 % or more over -> 10. The worst
    offenders are read first when the OCR queue backs up.
    """
    if speed_limit <= 0 or detected_speed <= speed_limit:
        return 1
    overspeed_percent = (detected_speed - speed_limit) / speed_limit * 100
    return max(1, min(OCR_MAX_PRIORITY, 1 + math.floor(overspeed_percent / 10)))


def celery_config(
    *,
    broker_url: str,
    broker_use_ssl: dict | bool = False,
    ocr_time_limit_s: int,
    alert_time_limit_s: int,
    broker_heartbeat_s: int = 60,
    sweep_interval_s: float = 60.0,
    retention_interval_s: float = 3600.0,
    hourly_counts_interval_s: float = 60.0,
) -> dict[str, Any]:
    """Celery settings shared by every role (lower-case Celery names)."""
    return {
        "broker_url": broker_url,
        "broker_use_ssl": broker_use_ssl,
        "broker_heartbeat": broker_heartbeat_s,
        "broker_connection_retry_on_startup": True,
        "result_backend": "django-db",
        "result_extended": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_queues": ALL_QUEUES[1:],
        "task_default_queue": OCR_QUEUE.name,
        "task_default_exchange": OCR_EXCHANGE.name,
        "task_default_routing_key": OCR_ROUTING_KEY,
        "task_create_missing_queues": False,
        "task_routes": {
            name: {"queue": queue.name, "exchange": queue.exchange.name, "routing_key": queue.routing_key}
            for name, queue in TASK_QUEUES.items()
        },
        "task_default_priority": 1,
        "task_annotations": {
            OCR_TASK: {
                "soft_time_limit": ocr_time_limit_s,
                "time_limit": ocr_time_limit_s + 30,
            },
            ALERT_TASK: {
                "soft_time_limit": alert_time_limit_s,
                "time_limit": alert_time_limit_s + 15,
            },
        },
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        # Our handlers write to stderr; a redirected stderr would feed them back into logging.
        "worker_redirect_stdouts": False,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "beat_schedule": beat_schedule(
            sweep_interval_s=sweep_interval_s,
            retention_interval_s=retention_interval_s,
            hourly_counts_interval_s=hourly_counts_interval_s,
        ),
    }
