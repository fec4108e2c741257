"""Scale-out ingest: competing consumers of ingest_queue, fed by the MQTT plugin."""

from __future__ import annotations

import pytest

from backend.contracts.events import TOPIC_DETECTIONS_NEW
from backend.detections.models import Detection
from backend.messaging.topology import INGEST_QUEUE
from harness.processes import Consuming, scrape, wait_for
from tests.support.events import encode, new_event, publish_detections, uploaded_event
from tests.support.pipeline import wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
PROCESSED = "speedcam_ingest_messages_processed_total"
REJECTED = "speedcam_ingest_messages_rejected_total"
PORTS = (9222, 9223)


@pytest.fixture
def amqp_consumers(pipeline):
    """Two AMQP ingest processes in place of the MQTT subscriber."""
    pipeline.subscriber.stop()
    consumers = [
        pipeline.role(
            f"amqp-ingest-{port}",
            [str(pipeline.subscriber.command[0]), "subscriber"],
            Consuming("INGEST_METRICS_PORT"),
            INGEST_MODE="amqp",
            INGEST_METRICS_PORT=str(port),
            INGEST_PREFETCH="1",
        )
        for port in PORTS
    ]
    for consumer in consumers:
        consumer.start()
    yield consumers
    for consumer in consumers:
        consumer.stop()
    with pipeline.services.amqp() as connection:
        # Left behind, the queue would collect every MQTT message with nobody to drain it.
        INGEST_QUEUE(connection.default_channel).delete()
        # The stopped subscriber's persistent session kept this test's messages; later tests
        # must not see them (RabbitMQ names the session queue after the client id).
        client_id = pipeline.env["MQTT_CLIENT_ID"]
        connection.default_channel.queue_purge(f"mqtt-subscription-{client_id}qos1")
    pipeline.subscriber.start()


def test_competing_consumers_share_the_load_and_each_event_is_stored_once(pipeline, amqp_consumers) -> None:
    events = [uploaded_event(pipeline.services, f"{10 + i}가{1000 + i}") for i in range(24)]
    invalid = encode(new_event(detected_speed="fast"))
    # Each event twice: a redelivery lands on whichever consumer is free.
    publish_detections(pipeline.services, [encode(e) for e in events] * 2 + [invalid])

    for event in events:
        assert wait_detection(event["event_id"]).status == "completed"
    assert Detection.objects.count() == len(events)

    def created(port: int) -> float:
        return scrape(port, PROCESSED, topic=TOPIC_DETECTIONS_NEW, outcome="created")

    def settled() -> bool:
        done = sum(scrape(port, PROCESSED, topic=TOPIC_DETECTIONS_NEW) for port in PORTS)
        return done + sum(scrape(port, REJECTED, topic=TOPIC_DETECTIONS_NEW) for port in PORTS) == 2 * len(events) + 1

    wait_for(settled, what="every message acknowledged")
    assert sum(created(port) for port in PORTS) == len(events)
    assert all(created(port) > 0 for port in PORTS), "both consumers took a share"
    assert sum(scrape(port, REJECTED, reason="invalid_detected_speed") for port in PORTS) == 1
    # The completion events went the same way: every detection's alert was handed over.
    wait_for(
        lambda: Detection.objects.filter(alert_dispatched_at__isnull=False).count() == len(events),
        what="every detection's alert handed over",
    )
