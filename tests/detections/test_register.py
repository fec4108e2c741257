"""Storing detections/new events, one or a batch at a time, on the real detections database."""

from __future__ import annotations

from functools import partial

import pytest

from backend.contracts.events import parse_detection_new
from backend.detections.models import Detection
from backend.detections.services import NewDetection, register_detection, register_detections
from tests.support.concurrency import at_once
from tests.support.events import TEST_BUCKET, TEST_LIMIT, TEST_LOCATION, encode, new_event

pytestmark = pytest.mark.django_db(databases="__all__")


def accepted(**overrides: object) -> NewDetection:
    event = parse_detection_new(encode(new_event(**overrides)), expected_bucket=TEST_BUCKET)
    return NewDetection(event, TEST_LOCATION, TEST_LIMIT)


def test_a_batch_creates_the_new_events_once_and_returns_the_stored_ones() -> None:
    stored = accepted()
    register_detection(stored.event, location=TEST_LOCATION, speed_limit=TEST_LIMIT)
    first, second = accepted(), accepted()

    results = register_detections([first, stored, second, first])

    assert [created for _, created in results] == [True, False, True, False]
    assert [detection.event_id for detection, _ in results] == [
        str(item.event.event_id) for item in (first, stored, second, first)
    ]
    assert results[0][0].pk == results[3][0].pk and all(detection.pk for detection, _ in results)
    assert Detection.objects.count() == 3
    row = Detection.objects.get(event_id=str(second.event.event_id))
    assert (row.status, row.location, row.speed_limit) == ("pending", TEST_LOCATION, TEST_LIMIT)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_two_consumers_storing_the_same_batch_at_once_make_one_row_per_event() -> None:
    def store(batch: list[NewDetection]) -> list[bool]:
        return [created for _, created in register_detections(batch)]

    for _ in range(10):
        batch = [accepted() for _ in range(5)]
        first, second = at_once(partial(store, batch), times=2)
        # Every event created by exactly one of the two, whichever stored it first.
        assert [a + b for a, b in zip(first, second, strict=True)] == [1] * 5
    assert Detection.objects.count() == 50
