"""The firebase-admin sender when FCM gives no answer at all (real SDK, real sockets)."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.alert.messages import PushMessage
from backend.alert.senders import FirebasePushSender, TransientPushError, UnknownOutcomePushError
from harness.services import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from fcm_emulator import write_service_account

MESSAGE = PushMessage(token="tok", title="제목", body="본문", data={"detection_id": "1"})


@pytest.fixture
def service_account(tmp_path: Path) -> str:
    path = tmp_path / "sa.json"
    write_service_account(str(path), project="p-test", token_uri="http://127.0.0.1:9/token")
    return str(path)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and reads requests, but never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def _sender(settings, service_account: str, endpoint: str) -> FirebasePushSender:
    settings.FCM_MOCK = False
    settings.FIREBASE_CREDENTIALS = service_account
    settings.FIREBASE_PROJECT_ID = ""
    settings.FCM_ENDPOINT = endpoint
    settings.FCM_TIMEOUT_S = 0.5
    return FirebasePushSender()


def test_refused_connection_is_transient(settings, service_account: str) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens here now
    sender = _sender(settings, service_account, f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(TransientPushError):
            sender.send(MESSAGE)
    finally:
        sender.close()


def test_no_answer_after_sending_is_an_unknown_outcome(
    settings,
    service_account: str,
    silent_server: int,
) -> None:
    sender = _sender(settings, service_account, f"http://127.0.0.1:{silent_server}")
    try:
        with pytest.raises(UnknownOutcomePushError):
            sender.send(MESSAGE)
    finally:
        sender.close()
