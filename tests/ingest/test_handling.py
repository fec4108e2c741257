"""How ingest treats a failing message, in process, on the real detections database."""

from __future__ import annotations

import threading

import pytest
from django.db import DataError, IntegrityError, OperationalError

from backend.contracts.events import detections_new_topic
from backend.detections.models import RejectedEvent
from backend.ingest import handling
from backend.ingest.handling import Failure, classify, handle_message, replay_rejected
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
    monkeypatch.setattr("backend.ingest.services.hand_to_ocr", lambda detection: None)
    event = new_event()
    assert handle_message(TOPIC, encode(event), stopping=threading.Event()) is True
    parked = RejectedEvent.objects.get()
    assert parked.reason == "unknown_camera"
    assert replay_rejected(parked.pk).startswith("rejected again: unknown_camera")

    register_test_camera()
    assert replay_rejected(parked.pk) == "applied: created"
    parked.refresh_from_db()
    assert parked.replayed_at is not None and parked.replay_outcome == "applied: created"
