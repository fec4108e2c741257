"""`manage.py dlq` against the real dlq_queue, with the pipeline consuming replays."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backend.config.celery import app as celery_app
from backend.messaging import dlq
from backend.messaging.topology import OCR_QUEUE, OCR_TASK
from harness.processes import Pipeline, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("dlq", *args, stdout=out)
    return out.getvalue()


def _dead_task_ids() -> set[str]:
    with celery_app.connection_for_write() as connection:
        return {letter.task_id for letter in dlq.peek(connection, limit=dlq.PEEK_LIMIT)}


def test_list_show_replay_and_purge(pipeline: Pipeline) -> None:
    _run("purge", "--yes")
    bad = celery_app.send_task(OCR_TASK, kwargs={"detection_id": "seven"}, queue=OCR_QUEUE).id
    wait_for(lambda: bad in _dead_task_ids(), what="the invalid task to be dead-lettered")

    listing = _run("list", "--task", OCR_TASK)
    assert bad in listing and "rejected" in listing and "1 dead letter(s)" in listing
    assert _run("list", "--task", "alert.send_notification").strip() == "0 dead letter(s)"
    [line] = _run("list", "--json").splitlines()
    assert json.loads(line)["arguments"] == {"detection_id": "seven"}
    assert json.loads(_run("show", bad))["queue"] == "ocr_queue"

    # Replayed, the still-invalid task goes back to the OCR worker and dies again.
    ocr_log_before = pipeline.ocr.log_text().count(f"[{bad}]")
    assert "replayed 1 dead letter(s)" in _run("replay", bad)
    wait_for(lambda: pipeline.ocr.log_text().count(f"[{bad}]") > ocr_log_before, what="the replay to be consumed")
    wait_for(lambda: bad in _dead_task_ids(), what="the task back in dlq_queue")

    with pytest.raises(CommandError, match="--yes"):
        _run("purge")
    assert "purged 1" in _run("purge", "--yes")
    assert _dead_task_ids() == set()


def test_replay_needs_a_choice_and_reports_missing_ids(pipeline: Pipeline) -> None:
    with pytest.raises(CommandError, match="--all"):
        _run("replay")
    with pytest.raises(CommandError, match="not found in dlq_queue: no-such-task"):
        _run("replay", "no-such-task")
    with pytest.raises(CommandError, match="no dead letter"):
        _run("show", "no-such-task")
