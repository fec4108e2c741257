"""One structured log line per state change.

Every line carries `event_id` and `detection_id`, so one detection can be
followed across the main, ocr and alert processes with a single grep.
"""

from __future__ import annotations

import logging
from typing import Any


def log_transition(
    logger: logging.Logger,
    what: str,
    *,
    event_id: str | None,
    detection_id: int | None,
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    logger.log(
        level,
        what,
        extra={"event_id": event_id, "detection_id": detection_id, **fields},
    )
