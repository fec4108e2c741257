"""Inspect and replay dead letters in dlq_queue.

A dead letter keeps its Celery headers (task name, id) and RabbitMQ's x-death record
(where it died and why). Replay republishes it, unchanged, to the exchange and routing
key it died from; the tasks are idempotent, so replaying a task that had in fact
succeeded does nothing harmful.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Exchange, Producer
from kombu.message import Message

from backend.messaging.topology import DLQ_QUEUE, declare_topology

PEEK_LIMIT = 1000


@dataclass(frozen=True)
class DeadLetter:
    task_id: str | None
    task: str | None
    arguments: Any
    reason: str | None
    queue: str | None
    exchange: str | None
    routing_key: str | None
    died_at: Any
    exception: str | None


def _describe(message: Message) -> DeadLetter:
    headers = message.headers or {}
    deaths = headers.get("x-death") or [{}]
    first = deaths[-1]  # x-death lists the most recent death first
    try:
        body = message.decode()
    except Exception:  # undecodable bodies are still shown and replayable
        body = message.body
    arguments = body[1] if isinstance(body, list | tuple) and len(body) > 1 else body
    return DeadLetter(
        task_id=headers.get("id"),
        task=headers.get("task"),
        arguments=arguments,
        reason=headers.get("x-first-death-reason") or first.get("reason"),
        queue=headers.get("x-first-death-queue") or first.get("queue"),
        exchange=headers.get("x-first-death-exchange") or first.get("exchange"),
        routing_key=(first.get("routing-keys") or [None])[0],
        died_at=first.get("time"),
        exception=headers.get("x-celery-exception") or None,
    )


@contextmanager
def _held(connection: Connection, limit: int) -> Iterator[list[Message]]:
    """Take up to `limit` messages off dlq_queue unacknowledged; give back any not acked."""
    declare_topology(connection)
    channel = connection.channel()
    held: list[Message] = []
    try:
        queue = DLQ_QUEUE(channel)
        while len(held) < limit and (message := queue.get(no_ack=False)) is not None:
            held.append(message)
        yield held
    finally:
        for message in held:
            if not message.acknowledged:
                message.requeue()
        channel.close()


def peek(connection: Connection, limit: int = 100) -> list[DeadLetter]:
    with _held(connection, limit) as messages:
        return [_describe(message) for message in messages]


def replay(connection: Connection, task_ids: set[str] | None = None, limit: int = PEEK_LIMIT) -> list[str]:
    """Send the chosen dead letters (all, when task_ids is None) back where they died."""
    replayed = []
    with _held(connection, limit) as messages:
        producer = Producer(connection.channel())
        for message in messages:
            letter = _describe(message)
            if task_ids is not None and letter.task_id not in task_ids:
                continue
            if not letter.exchange or not letter.routing_key:
                continue  # nowhere to send it back to; it stays for a person to look at
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            producer.publish(
                message.body,
                exchange=Exchange(letter.exchange, passive=True),
                routing_key=letter.routing_key,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                priority=message.properties.get("priority"),
                delivery_mode=2,
            )
            message.ack()
            replayed.append(letter.task_id or "?")
    return replayed


def purge(connection: Connection) -> int:
    declare_topology(connection)
    return DLQ_QUEUE(connection.default_channel).purge() or 0
