"""How ingest treats a failing message, in process, on the real detections database."""

from __future__ import annotations

import threading
import time

import pytest
from amqp.exceptions import MessageNacked
from django.db import DataError, IntegrityError, OperationalError

from backend.contracts.events import EventRejected, detections_new_topic
from backend.detections.models import RejectedEvent
from backend.ingest import handling
from backend.ingest.handling import Batch, Failure, Received, classify, handle_batch, handle_message, replay_rejected
from backend.ingest.services import Outcome
from tests.support.events import encode, new_event, register_test_camera

# transaction=True: ingest closes stale connections per message, which breaks a test transaction.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "detections_db"])
TOPIC = detections_new_topic("cam-01")


@pytest.fixture
def failing_handler(monkeypatch: pytest.MonkeyPatch):
    """Replace the detections/new handler by one that raises the given errors in turn."""
    monkeypatch.setattr(handling, "RETRY_DELAYS_S", (0.0,) * 10)
    calls: list[int] = []

    def install(*errors: BaseException) -> list[int]:
        def handler(payload: bytes, camera_id: str | None) -> Outcome:
            calls.append(1)
            raise errors[min(len(calls), len(errors)) - 1]

        monkeypatch.setitem(handling.HANDLERS, "detections/new", handler)
        return calls

    return install


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (DataError(1406, "Data too long"), Failure.PERMANENT),
        (IntegrityError(1062, "Duplicate"), Failure.PERMANENT),
        (OverflowError("date value out of range"), Failure.PERMANENT),
        (ValueError("bad"), Failure.PERMANENT),
        (OperationalError(2003, "Can't connect"), Failure.UNAVAILABLE),
        (OperationalError(1213, "Deadlock"), Failure.UNAVAILABLE),
        (OperationalError(1292, "Incorrect datetime value"), Failure.PERMANENT),
        (OperationalError(1054, "Unknown column (code before migration)"), Failure.UNAVAILABLE),
        (OperationalError(1142, "INSERT command denied"), Failure.UNAVAILABLE),
        (ConnectionResetError(), Failure.UNAVAILABLE),
        (MessageNacked("the broker refused a publish of this batch"), Failure.UNAVAILABLE),
        (RuntimeError("who knows"), Failure.UNKNOWN),
    ],
)
def test_errors_are_classified(error: BaseException, failure: Failure) -> None:
    assert classify(error) is failure


def test_a_data_error_parks_the_message_at_once(failing_handler) -> None:
    calls = failing_handler(DataError(1406, "Data too long for column 'location'"))
    assert handle_message(TOPIC, b'{"x": 1}', stopping=threading.Event()) is True
    parked = RejectedEvent.objects.get()
    assert (parked.reason, parked.camera_id, parked.attempts, len(calls)) == ("data_error", "cam-01", 1, 1)
    assert bytes(parked.payload) == b'{"x": 1}'


def test_an_unknown_error_is_tried_a_bounded_number_of_times_then_parked(failing_handler, settings) -> None:
    settings.INGEST_MAX_ATTEMPTS = 3
    calls = failing_handler(RuntimeError("boom"))
    assert handle_message(TOPIC, b"{}", stopping=threading.Event()) is True
    parked = RejectedEvent.objects.get()
    assert (parked.reason, parked.attempts, len(calls)) == ("failed_repeatedly", 3, 3)
    assert "boom" in parked.detail


def test_an_unavailable_database_keeps_the_message_for_redelivery(failing_handler, settings) -> None:
    calls = failing_handler(OperationalError(2013, "Lost connection"))
    assert handle_message(TOPIC, b"{}", stopping=threading.Event()) is False
    assert len(calls) == len(handling.RETRY_DELAYS_S) + 1
    assert not RejectedEvent.objects.exists()


def test_a_transient_failure_that_clears_is_applied(failing_handler, monkeypatch) -> None:
    outcomes = iter([OperationalError(2006, "gone away"), None])

    def handler(payload: bytes, camera_id: str | None) -> Outcome:
        error = next(outcomes)
        if error:
            raise error
        return Outcome.CREATED

    monkeypatch.setitem(handling.HANDLERS, "detections/new", handler)
    monkeypatch.setattr(handling, "RETRY_DELAYS_S", (0.0,))
    assert handle_message(TOPIC, b"{}", stopping=threading.Event()) is True
    assert not RejectedEvent.objects.exists()


def test_unknown_topics_are_parked_without_a_camera() -> None:
    assert handle_message("detections/new/cam.01", b"{}", stopping=threading.Event()) is True
    parked = RejectedEvent.objects.get()
    assert (parked.reason, parked.camera_id) == ("unknown_topic", None)


def test_replay_applies_a_message_once_its_cause_is_fixed(monkeypatch) -> None:
    monkeypatch.setattr("backend.ingest.services.hand_many_to_ocr", lambda detections: None)
    event = new_event()
    assert handle_message(TOPIC, encode(event), stopping=threading.Event()) is True
    parked = RejectedEvent.objects.get()
    assert parked.reason == "unknown_camera"
    assert replay_rejected(parked.pk).startswith("rejected again: unknown_camera")

    register_test_camera()
    assert replay_rejected(parked.pk) == "applied: created"
    parked.refresh_from_db()
    assert parked.replayed_at is not None and parked.replay_outcome == "applied: created"


def received(payload: bytes, topic: str = TOPIC) -> Received:
    return Received.of(topic, payload)


def test_a_batch_parks_its_rejected_events_alone_and_acknowledges_all(monkeypatch) -> None:
    def stored_together(messages: list[tuple[bytes, str | None]]) -> list:
        slow = EventRejected("not_over_registered_limit", "40 km/h")
        return [slow if payload == b"slow" else Outcome.CREATED for payload, _ in messages]

    monkeypatch.setitem(handling.BATCH_HANDLERS, "detections/new", stored_together)
    batch = [received(b"fast-1"), received(b"slow"), received(b"fast-2")]
    assert handle_batch(batch, stopping=threading.Event()) == [True, True, True]
    parked = RejectedEvent.objects.get()
    assert (parked.reason, bytes(parked.payload)) == ("not_over_registered_limit", b"slow")


def test_a_batch_that_fails_for_good_is_applied_again_one_message_at_a_time(monkeypatch) -> None:
    def batch_fails(messages: list[tuple[bytes, str | None]]) -> list:
        raise DataError(1406, "Data too long for column 'location'")

    def one_by_one(payload: bytes, camera_id: str | None) -> Outcome:
        if payload == b"too-long":
            raise DataError(1406, "Data too long for column 'location'")
        return Outcome.CREATED

    monkeypatch.setitem(handling.BATCH_HANDLERS, "detections/new", batch_fails)
    monkeypatch.setitem(handling.HANDLERS, "detections/new", one_by_one)
    batch = [received(b"good-1"), received(b"too-long"), received(b"good-2")]
    assert handle_batch(batch, stopping=threading.Event()) == [True, True, True]
    parked = RejectedEvent.objects.get()
    assert (parked.reason, bytes(parked.payload)) == ("data_error", b"too-long")


def test_a_batch_during_an_outage_is_left_for_redelivery_whole(monkeypatch) -> None:
    attempts: list[int] = []

    def broker_down(messages: list[tuple[bytes, str | None]]) -> list:
        attempts.append(len(messages))
        raise OperationalError(2003, "Can't connect")

    monkeypatch.setitem(handling.BATCH_HANDLERS, "detections/new", broker_down)
    monkeypatch.setattr(handling, "RETRY_DELAYS_S", (0.0, 0.0))
    batch = [received(b"one"), received(b"two"), received(b'{"state": "online"}', "cameras/cam-01/status")]
    decisions = handle_batch(batch, stopping=threading.Event())
    assert decisions[:2] == [False, False] and attempts == [2, 2, 2]
    assert not RejectedEvent.objects.filter(topic=TOPIC).exists()


def test_a_batch_is_due_when_full_or_when_its_first_message_has_waited() -> None:
    batch: Batch[int] = Batch(size=3, wait_s=0.05)
    assert batch.seconds_left(idle_s=1.0) == 1.0 and not batch.due
    batch.add(1, TOPIC, b"{}")
    batch.add(2, TOPIC, b"{}")
    assert not batch.due and 0 < batch.seconds_left(idle_s=1.0) <= 0.05
    time.sleep(0.06)
    assert batch.due and batch.seconds_left(idle_s=1.0) == 0.0
    batch.add(3, TOPIC, b"{}")
    assert batch.full
    batch.drop()
    assert not batch.items and not batch.due
