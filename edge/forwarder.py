"""Delivers spooled violations: upload the evidence, publish `detections/new`, forget.

Each step is recorded in the spool before the next starts, so a crash repeats at
most the last step; the object path and the event_id are fixed per violation, so a
repeat overwrites the same object and the backend stores the event once.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from backend.common import tracing
from backend.contracts.events import DetectionNewEvent
from edge.spool import Spool, SpooledViolation
from edge.uplink import Uplink

logger = logging.getLogger(__name__)


class Forwarder:
    def __init__(self, spool: Spool, uplink: Uplink) -> None:
        self.spool = spool
        self.uplink = uplink
        self.wake = threading.Event()

    def deliver(self, violation: SpooledViolation) -> None:
        event_id = violation.event_id
        uri = violation.image_gcs_uri
        fields = dict(violation.event)
        measured = fields.pop("traceparent", None)
        with tracing.span("edge deliver", parent=measured, event_id=event_id, attempts=violation.attempts):
            if violation.state == "pending":
                with tracing.span("edge upload", event_id=event_id):  # GCS's HTTP calls are its children
                    uri, sha256 = self.uplink.upload_evidence(
                        violation.image(),
                        camera_id=fields["camera_id"],
                        detected_at=datetime.fromisoformat(fields["detected_at"]),
                        event_id=event_id,
                    )
                if sha256 != violation.image_sha256:
                    raise RuntimeError(f"spooled image of {event_id} is corrupt (sha256 changed)")
                self.spool.mark_uploaded(event_id, uri)
            with tracing.span("edge publish", event_id=event_id):
                event = DetectionNewEvent(
                    **fields,
                    image_gcs_uri=uri,
                    image_sha256=violation.image_sha256,
                    traceparent=tracing.current_traceparent(),
                )
                self.uplink.publish_detection(event)
        self.spool.remove(event_id)
        logger.info("violation delivered", extra={"event_id": event_id, "image_gcs_uri": uri})

    def drain_once(self) -> int:
        """Try every violation that is due; stop at the first connection problem."""
        delivered = 0
        for violation in self.spool.due():
            try:
                self.deliver(violation)
            except Exception as error:
                delay = self.spool.mark_failed(violation.event_id, f"{type(error).__name__}: {error}")
                logger.warning(
                    "violation not delivered yet: %s; next try in %.0f s",
                    error,
                    delay,
                    extra={"event_id": violation.event_id, "attempts": violation.attempts + 1},
                )
                if isinstance(error, (ConnectionError, TimeoutError, OSError)):
                    break  # the others would fail the same way now
                continue
            delivered += 1
        return delivered

    def run(self, stopping: threading.Event, *, idle_s: float = 1.0) -> None:
        """Forward until `stopping` is set; a new violation (`wake`) is sent at once."""
        was_connected = False
        while not stopping.is_set():
            connected = self.uplink.connected
            if connected and not was_connected:
                self.spool.retry_now()  # the broker is back: no need to sit out the backoff
            was_connected = connected
            if connected:
                self.drain_once()
            self.wake.wait(idle_s)
            self.wake.clear()
