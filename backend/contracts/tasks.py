"""Arguments of the Celery tasks, validated by the worker before any work."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class InvalidTaskArguments(ValueError):
    pass


class DetectionTaskArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    detection_id: int = Field(gt=0, strict=True)
    event_id: uuid.UUID | None = None

    def log_fields(self) -> dict[str, Any]:
        """The ids every log line of this task carries."""
        return {"detection_id": self.detection_id, "event_id": str(self.event_id) if self.event_id else None}


def parse_detection_task_args(kwargs: dict[str, Any]) -> DetectionTaskArgs:
    try:
        return DetectionTaskArgs.model_validate(kwargs)
    except ValidationError as exc:
        raise InvalidTaskArguments(
            "; ".join(f"{'.'.join(map(str, e['loc'])) or 'args'}: {e['msg']}" for e in exc.errors())
        ) from exc
