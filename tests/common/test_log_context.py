"""Log fields bound once per message or task reach every line logged inside."""

from __future__ import annotations

import logging

import gevent
import pytest

from backend.common import log_context
from backend.common.events_log import log_transition


@pytest.fixture
def records() -> list[logging.LogRecord]:
    caught: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    handler = Catch()
    handler.addFilter(log_context.ContextFilter())
    logger = logging.getLogger("tests.log_context")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield caught
    logger.removeHandler(handler)


def test_bound_ids_reach_every_line_inside_and_none_after(records: list[logging.LogRecord]) -> None:
    logger = logging.getLogger("tests.log_context")
    with log_context.bound(event_id="e-1", detection_id=7, camera_id=None):
        logger.info("inside")
        log_transition(logger, "notification sent", status="sent")
        with log_context.bound(detection_id=8):
            logger.info("nested")
        log_transition(logger, "another detection", detection_id=9)  # named in the call: it wins
    logger.info("after")
    inside, transition, nested, named, after = records
    assert (inside.event_id, inside.detection_id) == ("e-1", 7)
    assert not hasattr(inside, "camera_id")  # None is not bound
    assert (transition.event_id, transition.detection_id, transition.status) == ("e-1", 7, "sent")
    assert (nested.event_id, nested.detection_id) == ("e-1", 8)
    assert named.detection_id == 9
    assert not hasattr(after, "event_id") and not hasattr(after, "detection_id")


def test_concurrent_greenlets_keep_their_own_ids(records: list[logging.LogRecord]) -> None:
    """As in the gevent alert worker: tasks interleave, each logs its own detection."""
    logger = logging.getLogger("tests.log_context")

    def task(detection_id: int) -> None:
        with log_context.bound(detection_id=detection_id, event_id=f"e-{detection_id}"):
            for step in range(3):
                gevent.sleep(0)  # let the others run in between
                logger.info("step %d", step, extra={"task": detection_id})

    gevent.joinall([gevent.spawn(task, n) for n in range(1, 6)])
    assert len(records) == 15
    assert all(record.detection_id == record.task and record.event_id == f"e-{record.task}" for record in records)
