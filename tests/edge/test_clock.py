"""The clock check: evidence is stamped only on a synchronised clock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge.clock import ClockGuard, clock_state, parse_chronyc_tracking, parse_timedatectl
from edge.synthetic import generate
from harness.services import REPO_ROOT

CHRONY_SYNCED = """Reference ID    : C0A80001 (192.168.0.1)
Stratum         : 3
System time     : 0.000012 seconds slow of NTP time
Leap status     : Normal
"""


def test_chrony_and_systemd_answers_are_read() -> None:
    assert parse_chronyc_tracking(CHRONY_SYNCED).synchronised
    unsynced = parse_chronyc_tracking(CHRONY_SYNCED.replace("Normal", "Not synchronised"))
    assert not unsynced.synchronised and "Not synchronised" in unsynced.detail
    assert parse_chronyc_tracking("506 Cannot talk to daemon") is None
    assert parse_timedatectl("yes\n").synchronised and not parse_timedatectl("no\n").synchronised
    assert parse_timedatectl("Failed to connect to bus") is None


def test_a_unit_that_does_not_require_sync_is_not_asked() -> None:
    state = ClockGuard(required=False).state()
    assert state.synchronised and state.source == "not required"


def test_edge_run_stamps_no_violation_on_an_unsynchronised_clock(tmp_path: Path) -> None:
    state = clock_state()
    if state.synchronised:
        pytest.skip(f"this machine's clock is synchronised ({state.detail}): nothing to refuse")
    generate(tmp_path, "overhead", vehicles=2, seed=5)
    config = yaml.safe_load((tmp_path / "cam.yaml").read_text("utf-8"))
    config["clock"] = {"require_sync": True}
    config["speed_limit_kmh"] = 20  # every vehicle is a violation
    config["backend"] = {"mqtt_password": "unused", "mqtt_port": 1, "heartbeat_s": 3600, "publish_timeout_s": 1}
    (tmp_path / "cam.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "edge", "run", "--config", str(tmp_path / "cam.yaml")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "clock not synchronised" in result.stderr and "violation NOT stamped" in result.stderr
    assert not list((tmp_path / "spool").glob("**/*.jpg"))
