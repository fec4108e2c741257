"""Run a snippet of Python in its own process, with the test settings and a connection pool:
for what a test cannot see from inside pytest (gevent's patching, a fresh pool)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from harness.services import REPO_ROOT, TestServices


def run_pooled_probe(services: TestServices, probe: str, *, pool_size: int) -> Any:
    """Run `probe` against the running services with DB_POOL_SIZE=`pool_size`; return the
    JSON on the last line it prints."""
    env = {
        **os.environ,
        **services.env,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "SPEEDCAM_SKIP_DOTENV": "true",
        "DB_POOL_SIZE": str(pool_size),
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
