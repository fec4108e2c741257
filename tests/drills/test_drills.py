"""Every fault drill passes (a shorter run than the full 1,000 detections per drill).

The drills run through their own script on their own service profile (.state/drill):
they restart RabbitMQ and MariaDB, which must not disturb this session's services.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from harness.services import REPO_ROOT, outside_environment

pytestmark = [pytest.mark.integration, pytest.mark.drill]
DRILL_COUNT = int(os.environ.get("SPEEDCAM_DRILL_COUNT", "60"))
HOSTILE_COUNT = int(os.environ.get("SPEEDCAM_HOSTILE_COUNT", "1000"))


@pytest.mark.timeout(1200)
def test_every_drill_loses_nothing_and_pushes_nothing_twice() -> None:
    result = subprocess.run(
        [
            str(REPO_ROOT / "scripts/drills/run"),
            "all",
            "--count",
            str(DRILL_COUNT),
            "--rate",
            "20",
            "--timeout",
            "180",
            "--hostile",
            str(HOSTILE_COUNT),
        ],
        cwd=REPO_ROOT,
        # Not this session's service variables (DB_PORT=…): the drill profile has its own.
        env=outside_environment(),
        capture_output=True,
        text=True,
        timeout=1150,
    )
    output = result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, output[-4000:]
    summary = json.loads(lines[-1])
    failed = [drill for drill in summary["drills"] if not drill["pass"]]
    assert not failed, json.dumps(failed, ensure_ascii=False, indent=1) + output[-3000:]
    assert {drill["drill"] for drill in summary["drills"]} == {
        "ocr-kill",
        "alert-kill",
        "rabbitmq-restart",
        "mariadb-restart",
        "subscriber-restart",
        "fcm-5xx",
        "bad-input",
        "backup-restore",
    }
    for drill in summary["drills"]:
        if drill["drill"] == "bad-input":
            assert drill["hostile_published"] == HOSTILE_COUNT and drill["rows_from_hostile"] == 0
            assert drill["unaccounted"] == 0 and drill["valid_stored"] == drill["valid_published"]
            continue
        assert drill["stored"] == DRILL_COUNT and drill["duplicate_pushes"] == 0
        if drill["drill"] == "backup-restore":
            assert drill["violations_after_restore"] == drill["violations_served"] > 0
            assert drill["evidence_intact"] == DRILL_COUNT
    assert result.returncode == 0, output[-3000:]
