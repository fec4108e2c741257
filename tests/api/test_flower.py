"""Flower, as ./scripts/up.sh starts it: behind basic auth, seeing the broker."""

from __future__ import annotations

import base64
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from harness.processes import wait_for
from harness.services import REPO_ROOT, TestServices

PORT = 5585


def _get(path: str, credentials: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}")
    if credentials:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    try:
        return urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@pytest.mark.integration
def test_flower_requires_the_configured_credentials(services: TestServices) -> None:
    env = {
        **os.environ,
        **services.env,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "SPEEDCAM_SKIP_DOTENV": "true",
    }
    flower = subprocess.Popen(
        [
            str(REPO_ROOT / ".venv/bin/celery"),
            "-A",
            "backend.config.celery",
            "flower",
            "--address=127.0.0.1",
            f"--port={PORT}",
            "--basic-auth=admin:flower-secret",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _get("/workers") != 0, timeout=30, what="Flower to listen")
        assert _get("/workers") == 401
        assert _get("/workers", "admin:wrong") == 401
        assert _get("/workers", "admin:flower-secret") == 200
    finally:
        flower.terminate()
        flower.wait(10)
