"""Push senders: the interface the alert worker calls, and its implementations.

A sender either returns the provider's message id or raises one of three errors,
which decide what the task does next:

* PermanentPushError  - never retried; the notification fails (and, for a dead
  token, the token is retired).
* TransientPushError  - certainly not delivered; retried with backoff, honouring
  the provider's Retry-After.
* UnknownOutcomePushError - the request may have reached FCM (timeout after
  sending); not retried, because a retry could push twice.
"""

from __future__ import annotations

import json
import logging
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import firebase_admin
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from firebase_admin import credentials, exceptions, messaging
from urllib3.util.retry import Retry

from backend.alert.messages import PushMessage

logger = logging.getLogger(__name__)

APP_NAME = "speedcam-alert"
ANDROID_CHANNEL_ID = "speed_violation"


class PermanentPushError(Exception):
    """The push can never be delivered as addressed."""

    def __init__(self, reason: str, *, retire_token: bool = False) -> None:
        super().__init__(reason)
        self.retire_token = retire_token


class TransientPushError(Exception):
    """The push was certainly not delivered, and may succeed later."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class UnknownOutcomePushError(Exception):
    """The request may have been delivered; repeating it could push twice."""


class PushSender(Protocol):
    def send(self, message: PushMessage) -> str:
        """Deliver the message; return the provider's message id."""
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


# FCM error codes whose token will never work again: retire it.
_DEAD_TOKEN_ERRORS = (messaging.UnregisteredError, messaging.SenderIdMismatchError, exceptions.InvalidArgumentError)
_RETRYABLE_ERRORS = (
    messaging.QuotaExceededError,
    exceptions.ResourceExhaustedError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.UnknownError,
)


def _retry_after_s(error: exceptions.FirebaseError) -> float | None:
    response = error.http_response
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare for FCM; fall back to our own backoff


def classify_firebase_error(error: exceptions.FirebaseError) -> Exception:
    """Map a firebase-admin error to the sender contract above."""
    label = f"{type(error).__name__}: {error}"
    if isinstance(error, _DEAD_TOKEN_ERRORS):
        return PermanentPushError(label, retire_token=True)
    if isinstance(error, exceptions.DeadlineExceededError):
        return UnknownOutcomePushError(label)
    if isinstance(error, exceptions.UnavailableError) and error.http_response is None:
        # No HTTP response: the SDK turned a requests error into UNAVAILABLE. A read
        # error could mean FCM got the request; only a failed connect proves it did not.
        if isinstance(error.cause, requests.exceptions.ConnectionError) and not isinstance(
            error.cause, requests.exceptions.ReadTimeout
        ):
            return TransientPushError(label)
        return UnknownOutcomePushError(label)
    if isinstance(error, _RETRYABLE_ERRORS):
        return TransientPushError(label, retry_after_s=_retry_after_s(error))
    if isinstance(error, messaging.ThirdPartyAuthError):
        return PermanentPushError(label)
    # Anything else (our credentials refused, permission denied): an operator must act;
    # retrying then dead-lettering keeps the task for replay.
    return TransientPushError(label)


def fcm_message(message: PushMessage) -> messaging.Message:
    """The FCM v1 request for a push: high priority on Android, an alert on iOS, both
    expiring after FCM_TTL_S."""
    ttl = timedelta(seconds=settings.FCM_TTL_S)
    with warnings.catch_warnings():
        # 7.x deprecates Message.token in favour of fid; FCM v1 still takes "token".
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(
            token=message.token,
            notification=messaging.Notification(title=message.title, body=message.body),
            data=message.data,
            android=messaging.AndroidConfig(
                priority="high",
                ttl=ttl,
                notification=messaging.AndroidNotification(channel_id=ANDROID_CHANNEL_ID, sound="default"),
            ),
            apns=messaging.APNSConfig(
                headers={
                    "apns-priority": "10",
                    "apns-push-type": "alert",
                    "apns-expiration": str(int((datetime.now(UTC) + ttl).timestamp())),
                },
                payload=messaging.APNSPayload(
                    aps=messaging.Aps(
                        alert=messaging.ApsAlert(title=message.title, body=message.body), sound="default"
                    ),
                ),
            ),
        )


class FirebasePushSender:
    """Sends through the real firebase-admin SDK, one App per worker process."""

    def __init__(self) -> None:
        path = Path(settings.FIREBASE_CREDENTIALS)
        try:
            account = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"FIREBASE_CREDENTIALS: cannot read service account {path}: {exc}") from exc
        project_id = settings.FIREBASE_PROJECT_ID or account.get("project_id")
        if not project_id:
            raise ImproperlyConfigured("FIREBASE_PROJECT_ID is not set and the service account names no project")
        self.app = firebase_admin.initialize_app(
            credentials.Certificate(account),
            options={"projectId": project_id, "httpTimeout": settings.FCM_TIMEOUT_S},
            name=f"{APP_NAME}-{uuid.uuid4().hex[:8]}",
        )
        service = messaging._get_messaging_service(self.app)
        if settings.FCM_ENDPOINT:
            # firebase-admin has no emulator variable for FCM: point its send URL at ours.
            service._fcm_url = f"{settings.FCM_ENDPOINT.rstrip('/')}/v1/projects/{project_id}/messages:send"
        # Our task policy owns retries (backoff, Retry-After, the claim). The SDK may only
        # repeat a failed connect, which certainly delivered nothing; never a read.
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4,
            pool_maxsize=max(10, settings.ALERT_CONCURRENCY),
            max_retries=Retry(total=1, connect=1, read=0, status=0, other=0, raise_on_status=False),
        )
        service._client.session.mount(service._fcm_url.split("/v1/")[0], adapter)

    def send(self, message: PushMessage) -> str:
        try:
            return messaging.send(fcm_message(message), app=self.app)
        except exceptions.FirebaseError as error:
            raise classify_firebase_error(error) from error

    def close(self) -> None:
        firebase_admin.delete_app(self.app)


def check_configuration() -> None:
    """Refuse to start a worker that could not send a single push."""
    if settings.FCM_MOCK:
        return
    if not settings.FIREBASE_CREDENTIALS:
        raise ImproperlyConfigured(
            "FIREBASE_CREDENTIALS is not set: give the path of the Firebase service-account JSON "
            "(or FCM_MOCK=true for a demo without pushes)"
        )
    if not Path(settings.FIREBASE_CREDENTIALS).is_file():
        raise ImproperlyConfigured(f"FIREBASE_CREDENTIALS: {settings.FIREBASE_CREDENTIALS} is not a file")


def build_push_sender() -> PushSender:
    """Build the configured sender. Called once per worker process."""
    check_configuration()
    return LoggingPushSender() if settings.FCM_MOCK else FirebasePushSender()
