"""Log fields bound once per message or task (contextvars).

A consumer or task binds `event_id` and `detection_id` when it starts on a message; every
line logged inside, by any module, carries them (LOGGING puts ContextFilter on the
handler). Services therefore take ids for what they do, never only to log them. Context
variables follow threads' and greenlets' own contexts, so concurrent tasks in the gevent
alert worker never see each other's fields.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

_fields: ContextVar[Mapping[str, Any]] = ContextVar("speedcam_log_fields", default=MappingProxyType({}))


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Inside the block, every log line carries `fields` (those that are not None), on top
    of what an enclosing block bound."""
    token = _fields.set({**_fields.get(), **{key: value for key, value in fields.items() if value is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


class ContextFilter(logging.Filter):
    """Puts the bound fields on each record, unless the call named them itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _fields.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
