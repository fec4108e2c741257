"""Push senders: the interface the alert worker calls, and its implementations."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from backend.alert.messages import PushMessage

logger = logging.getLogger(__name__)


class PermanentPushError(Exception):
    """The push can never be delivered as addressed (e.g. an unregistered token)."""


class PushSender(Protocol):
    def send(self, message: PushMessage) -> str:
        """Deliver the message; return the provider's message id. Raise
        PermanentPushError for a final refusal, anything else for a transient one."""
        ...


class LoggingPushSender:
    """Stand-in for FCM (FCM_MOCK=true): logs the push instead of sending it."""

    def send(self, message: PushMessage) -> str:
        message_id = f"mock-{uuid.uuid4()}"
        logger.info(
            "mock push",
            extra={
                "title": message.title,
                "body": message.body,
                "data": message.data,
                "token_tail": message.token[-6:],
                "provider_message_id": message_id,
            },
        )
        return message_id


def check_configuration() -> None:
    """Refuse to start a worker that could not send a single push."""
    if not settings.FCM_MOCK:
        raise ImproperlyConfigured(
            "No push sender is configured: the firebase-admin sender is not part of this build yet. "
            "Set FCM_MOCK=true to run the pipeline with the logging stand-in."
        )


def build_push_sender() -> PushSender:
    """Build the configured sender. Called once per worker process."""
    check_configuration()
    return LoggingPushSender()
