"""Store and forward: every violation is written here first, then uploaded and published.

SQLite (WAL, synchronous=FULL) holds one row per violation, and the JPEG lies beside it
as a file, written and fsynced before the row is committed. A violation leaves the
spool only after the broker acknowledged its `detections/new` event. A crash or a
power cut at any point loses nothing: the next run resumes from the row's state
(`pending` -> `uploaded` -> gone), and the deterministic object path and the event_id
make a repeated upload or publish harmless.

The spool is bounded (items and bytes). When it is full, `drop_oldest` deletes the
oldest waiting violation to make room and `refuse_new` keeps the old ones and refuses
the new; either way the loss is logged with the event_id.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS violations (
    event_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    event TEXT NOT NULL,            -- detections/new fields except the image's URI and hash
    image_file TEXT NOT NULL,
    image_bytes INTEGER NOT NULL,
    image_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'uploaded')),
    image_gcs_uri TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS idx_due ON violations (next_attempt_at, created_at);
"""


class SpoolFull(Exception):
    """refuse_new: the spool holds its maximum; the new violation was not stored."""


@dataclass(frozen=True)
class SpooledViolation:
    event_id: str
    created_at: float
    event: dict
    image_path: Path
    image_sha256: str
    state: str
    image_gcs_uri: str | None
    attempts: int
    next_attempt_at: float
    last_error: str | None

    def image(self) -> bytes:
        return self.image_path.read_bytes()


class Spool:
    def __init__(
        self,
        directory: Path,
        *,
        max_items: int,
        max_bytes: int,
        when_full: Literal["drop_oldest", "refuse_new"] = "drop_oldest",
        retry_initial_s: float = 2.0,
        retry_max_s: float = 300.0,
    ) -> None:
        self.directory = Path(directory)
        self.images = self.directory / "images"
        self.images.mkdir(parents=True, exist_ok=True)
        self.max_items, self.max_bytes, self.when_full = max_items, max_bytes, when_full
        self.retry_initial_s, self.retry_max_s = retry_initial_s, retry_max_s
        # One connection, used under a lock: the camera loop adds while the forwarder sends.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.directory / "spool.sqlite3", isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._remove_orphan_images()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _execute(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def close(self) -> None:
        self._db.close()

    # --- writing ---------------------------------------------------------------------
    def add(self, event: dict, image: bytes, image_sha256: str) -> None:
        """Keep a violation until it is delivered. Raises SpoolFull (refuse_new) when full."""
        event_id = event["event_id"]
        path = self.images / f"{event_id}.jpg"
        _write_durably(path, image)
        try:
            with self._transaction() as db:
                self._make_room(db, len(image), new_event_id=event_id)
                db.execute(
                    "INSERT INTO violations (event_id, created_at, event, image_file, image_bytes, image_sha256,"
                    " state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                    (
                        event_id,
                        time.time(),
                        json.dumps(event, ensure_ascii=False),
                        path.name,
                        len(image),
                        image_sha256,
                        0.0,
                    ),
                )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        logger.info("violation spooled", extra={"event_id": event_id})

    def _make_room(self, db: sqlite3.Connection, incoming_bytes: int, *, new_event_id: str) -> None:
        while True:
            items, size = db.execute("SELECT COUNT(*), COALESCE(SUM(image_bytes), 0) FROM violations").fetchone()
            if items < self.max_items and size + incoming_bytes <= self.max_bytes:
                return
            if self.when_full == "refuse_new" or items == 0:
                logger.error(
                    "spool full: new violation refused",
                    extra={"event_id": new_event_id, "items": items, "bytes": size, "policy": self.when_full},
                )
                raise SpoolFull(f"spool holds {items} violations / {size} bytes")
            oldest = db.execute("SELECT event_id, image_file FROM violations ORDER BY created_at LIMIT 1").fetchone()
            db.execute("DELETE FROM violations WHERE event_id = ?", (oldest["event_id"],))
            (self.images / oldest["image_file"]).unlink(missing_ok=True)
            logger.error(
                "spool full: oldest violation dropped (policy drop_oldest)",
                extra={"event_id": oldest["event_id"], "items": items, "bytes": size},
            )

    def mark_uploaded(self, event_id: str, image_gcs_uri: str) -> None:
        self._execute(
            "UPDATE violations SET state = 'uploaded', image_gcs_uri = ? WHERE event_id = ?", (image_gcs_uri, event_id)
        )

    def mark_failed(self, event_id: str, error: str) -> float:
        """Back off exponentially; returns the delay until the next attempt."""
        rows = self._execute("SELECT attempts FROM violations WHERE event_id = ?", (event_id,))
        attempts = (rows[0]["attempts"] if rows else 0) + 1
        delay = min(self.retry_max_s, self.retry_initial_s * 2 ** (attempts - 1))
        self._execute(
            "UPDATE violations SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE event_id = ?",
            (attempts, time.time() + delay, error[:500], event_id),
        )
        return delay

    def remove(self, event_id: str) -> None:
        """Delivered: the broker acknowledged the event."""
        with self._transaction() as db:
            row = db.execute("SELECT image_file FROM violations WHERE event_id = ?", (event_id,)).fetchone()
            db.execute("DELETE FROM violations WHERE event_id = ?", (event_id,))
        if row:
            (self.images / row["image_file"]).unlink(missing_ok=True)

    def retry_now(self) -> None:
        self._execute("UPDATE violations SET next_attempt_at = 0")

    # --- reading ---------------------------------------------------------------------
    def due(self, now: float | None = None, limit: int = 50) -> list[SpooledViolation]:
        rows = self._execute(
            "SELECT * FROM violations WHERE next_attempt_at <= ? ORDER BY created_at LIMIT ?",
            (time.time() if now is None else now, limit),
        )
        return [self._violation(row) for row in rows]

    def all(self) -> list[SpooledViolation]:
        return [self._violation(row) for row in self._execute("SELECT * FROM violations ORDER BY created_at")]

    def stats(self) -> dict:
        items, size, oldest = self._execute(
            "SELECT COUNT(*), COALESCE(SUM(image_bytes), 0), MIN(created_at) FROM violations"
        )[0]
        return {"items": items, "bytes": size, "oldest_age_s": round(time.time() - oldest, 1) if oldest else None}

    def _violation(self, row: sqlite3.Row) -> SpooledViolation:
        return SpooledViolation(
            event_id=row["event_id"],
            created_at=row["created_at"],
            event=json.loads(row["event"]),
            image_path=self.images / row["image_file"],
            image_sha256=row["image_sha256"],
            state=row["state"],
            image_gcs_uri=row["image_gcs_uri"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            last_error=row["last_error"],
        )

    def _remove_orphan_images(self) -> None:
        """An image written just before a crash, whose row was never committed."""
        known = {row[0] for row in self._execute("SELECT image_file FROM violations")}
        for path in self.images.glob("*.jpg"):
            if path.name not in known:
                path.unlink(missing_ok=True)


def _write_durably(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
