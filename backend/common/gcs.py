"""The Google Cloud Storage client of this process.

With STORAGE_EMULATOR_HOST set (development, tests) the real client talks to
the emulator with anonymous credentials; otherwise it uses Application Default
Credentials (GOOGLE_APPLICATION_CREDENTIALS).
"""

from __future__ import annotations

import os
import threading

from django.conf import settings
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from backend.contracts.events import parse_gcs_uri

_clients: dict[int, storage.Client] = {}
_lock = threading.Lock()


def storage_client() -> storage.Client:
    pid = os.getpid()  # one client per process: its HTTP session must not cross a fork
    with _lock:
        if pid not in _clients:
            if settings.STORAGE_EMULATOR_HOST:
                os.environ["STORAGE_EMULATOR_HOST"] = settings.STORAGE_EMULATOR_HOST
                _clients[pid] = storage.Client(project="speedcam-local", credentials=AnonymousCredentials())
            else:
                _clients[pid] = storage.Client()
        return _clients[pid]


def delete_object(gcs_uri: str) -> bool:
    """Delete one object; False when it was already gone. Other errors propagate."""
    bucket, name = parse_gcs_uri(gcs_uri)
    try:
        storage_client().bucket(bucket).blob(name).delete(
            timeout=30, retry=DEFAULT_RETRY.with_timeout(settings.GCS_RETRY_DEADLINE_S)
        )
    except NotFound:
        return False
    return True
