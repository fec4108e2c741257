"""The edge's store-and-forward spool (SQLite + image files), without a network."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

import pytest

from edge.spool import Spool, SpoolFull

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


def violation(speed: float = 95.0) -> tuple[dict, bytes, str]:
    image = b"\xff\xd8" + uuid.uuid4().bytes * 100
    event = {
        "event_id": str(uuid.uuid4()),
        "camera_id": "cam-01",
        "location": "x",
        "detected_speed": speed,
        "speed_limit": 60.0,
        "detected_at": "2026-11-23T10:02:03.120+09:00",
    }
    return event, image, hashlib.sha256(image).hexdigest()


def open_spool(path: Path, **options) -> Spool:
    return Spool(path, **{"max_items": 100, "max_bytes": 10_000_000, **options})


def test_a_violation_survives_a_restart_until_it_is_removed(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    event, image, sha = violation()
    spool.add(event, image, sha)
    spool.mark_uploaded(event["event_id"], "gs://b/o.jpg")
    spool.close()

    reopened = open_spool(tmp_path)
    [kept] = reopened.all()
    assert kept.event == event and kept.image() == image and kept.image_sha256 == sha
    assert kept.state == "uploaded" and kept.image_gcs_uri == "gs://b/o.jpg"
    reopened.remove(event["event_id"])
    assert reopened.all() == [] and not list((tmp_path / "images").iterdir())


def test_failures_back_off_exponentially_and_retry_now_resets(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, retry_initial_s=2, retry_max_s=10)
    event, image, sha = violation()
    spool.add(event, image, sha)
    assert [spool.mark_failed(event["event_id"], "down") for _ in range(4)] == [2, 4, 8, 10]
    assert spool.due() == []
    spool.retry_now()
    assert [v.attempts for v in spool.due()] == [4]


def test_when_full_the_oldest_is_dropped_and_logged(tmp_path: Path, caplog) -> None:
    spool = open_spool(tmp_path, max_items=2)
    events = [violation() for _ in range(3)]
    with caplog.at_level(logging.ERROR, logger="edge.spool"):
        for event, image, sha in events:
            spool.add(event, image, sha)
    assert [v.event_id for v in spool.all()] == [events[1][0]["event_id"], events[2][0]["event_id"]]
    [record] = [r for r in caplog.records if "dropped" in r.message]
    assert record.event_id == events[0][0]["event_id"]


def test_refuse_new_keeps_the_old_evidence(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_items=1, when_full="refuse_new")
    first, second = violation(), violation()
    spool.add(*first)
    with pytest.raises(SpoolFull):
        spool.add(*second)
    assert [v.event_id for v in spool.all()] == [first[0]["event_id"]]
    assert len(list((tmp_path / "images").iterdir())) == 1


def test_the_byte_bound_counts_images(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, max_bytes=1_000_000, when_full="refuse_new")
    event, _, _ = violation()
    big = b"\xff" * 600_000
    spool.add(event, big, hashlib.sha256(big).hexdigest())
    other, _, _ = violation()
    with pytest.raises(SpoolFull):
        spool.add(other, big, hashlib.sha256(big).hexdigest())


def test_an_image_without_a_row_is_cleaned_up_on_start(tmp_path: Path) -> None:
    open_spool(tmp_path).close()
    orphan = tmp_path / "images" / f"{uuid.uuid4()}.jpg"
    orphan.write_bytes(b"half written before a crash")
    open_spool(tmp_path).close()
    assert not orphan.exists()
