"""Is the system clock synchronised? Evidence carries the time of the offence, so the
unit stamps nothing until the answer is yes.

Asked in turn: chrony (`chronyc -n tracking`: "Leap status : Normal"), systemd
(`timedatectl show -p NTPSynchronized --value`: "yes") and systemd-timesyncd's flag file
`/run/systemd/timesync/synchronized`. The first that answers decides.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")


@dataclass(frozen=True)
class ClockState:
    synchronised: bool
    source: str  # "chrony", "timedatectl", "timesyncd", or "none"
    detail: str


def parse_chronyc_tracking(output: str) -> ClockState | None:
    """`chronyc -n tracking` -> state, or None when chronyd did not answer."""
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Leap status":
            status = value.strip()
            return ClockState(status == "Normal", "chrony", f"chrony leap status: {status}")
    return None


def parse_timedatectl(output: str) -> ClockState | None:
    value = output.strip()
    if value not in ("yes", "no"):
        return None
    return ClockState(value == "yes", "timedatectl", f"systemd NTPSynchronized={value}")


def _run(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def clock_state() -> ClockState:
    output = _run(["chronyc", "-n", "tracking"])
    if output is not None and (state := parse_chronyc_tracking(output)) is not None:
        return state
    output = _run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    if output is not None and (state := parse_timedatectl(output)) is not None:
        return state
    if TIMESYNCD_FLAG.exists():
        return ClockState(True, "timesyncd", f"{TIMESYNCD_FLAG} exists")
    return ClockState(
        False, "none", "no time service says the clock is synchronised (tried chronyc, timedatectl, timesyncd)"
    )


class ClockGuard:
    """Answers "may I stamp evidence now?", asking the system at most every `recheck_s`."""

    def __init__(self, *, required: bool, recheck_s: float = 30.0) -> None:
        self.required = required
        self.recheck_s = recheck_s
        self._state: ClockState | None = None
        self._checked_at = 0.0

    def state(self) -> ClockState:
        if not self.required:
            return ClockState(True, "not required", "clock.require_sync is false")
        now = time.monotonic()
        interval = self.recheck_s if self._state is not None and self._state.synchronised else min(self.recheck_s, 5.0)
        if self._state is None or now - self._checked_at >= interval:
            self._state, self._checked_at = clock_state(), now
        return self._state
