"""One structured log line per state change.

Every line carries `event_id` and `detection_id`, so one detection can be
followed across the main, ocr and alert processes with a single grep. The consumer or
task that handles a message binds them once (backend.common.log_context); a call names
them only where it speaks of another detection than the bound one.
"""

from __future__ import annotations

import logging
from typing import Any


def log_transition(
    logger: logging.Logger,
    what: str,
    *,
    event_id: str | None = None,
    detection_id: int | None = None,
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    ids = {key: value for key, value in (("event_id", event_id), ("detection_id", detection_id)) if value is not None}
    logger.log(level, what, extra={**ids, **fields})
