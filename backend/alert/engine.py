"""The push sender of this worker process, built once at worker start."""

from __future__ import annotations

from backend.alert.senders import PushSender, build_push_sender

_sender: PushSender | None = None


def load() -> PushSender:
    global _sender
    _sender = build_push_sender()
    return _sender


def push_sender() -> PushSender:
    return _sender if _sender is not None else load()
