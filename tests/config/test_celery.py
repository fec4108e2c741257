"""The workers' Celery application around each task: database connections live as long as
CONN_MAX_AGE says, not one task (Celery's Django fixup would close them after each)."""

from __future__ import annotations

import pytest

from harness.processes import Pipeline
from tests.support.events import encode, publish_detections, uploaded_event
from tests.support.pipeline import events_for, wait_detection

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def _process(pipeline: Pipeline, count: int) -> list[dict]:
    """Publish `count` readable detections and wait until each is completed; their events."""
    events = [uploaded_event(pipeline.services, "12가3456") for _ in range(count)]
    publish_detections(pipeline.services, [encode(event) for event in events])
    for event in events:
        detection = wait_detection(event["event_id"])
        assert detection.status == "completed", detection.error_message
    return events


def test_the_prefork_worker_keeps_its_database_connections_between_tasks(pipeline: Pipeline) -> None:
    services = pipeline.services
    _process(pipeline, 4)
    kept = services.database_sessions("ocr")
    assert kept, "the OCR worker closed its database connections when its tasks ended"
    _process(pipeline, 4)
    # None was closed meanwhile: a connection per child and database, not one per task.
    assert kept <= services.database_sessions("ocr")


def test_a_connection_the_server_ended_costs_no_task(pipeline: Pipeline) -> None:
    services = pipeline.services
    _process(pipeline, 2)
    services.end_database_sessions(services.database_sessions("ocr"))
    # The health check (CONN_HEALTH_CHECKS) finds each dead connection before its task's
    # first query and connects again: no task fails or waits for a retry.
    for event in _process(pipeline, 4):
        processing = [e for e in events_for(pipeline, event["event_id"]) if e["message"] == "detection processing"]
        assert len(processing) == 1
