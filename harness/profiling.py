"""py-spy (PyPI) attached to a running role, for the benchmarks' `--profile` options."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

SUFFIX = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}


def record(pid: int, out: Path, *, seconds: float, output_format: str = "flamegraph") -> subprocess.Popen:
    """Sample the CPU of `pid` and its children at 100 Hz for `seconds` into `out` (its
    suffix follows the format). Only running threads are sampled: under gevent, waiting
    greenlets do not show."""
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        "100",
        "--format",
        output_format,
        "--duration",
        str(int(seconds)),
        "-o",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _processes() -> Iterator[tuple[int, int, str, float]]:
    """(pid, session id, command line, CPU seconds used) of every process now running."""
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue  # the process ended meanwhile
        # Fields 6, 14 and 15 of stat: session id, user and system time in clock ticks.
        yield int(stat.parent.name), int(fields[3]), command, (int(fields[11]) + int(fields[12])) / ticks


def cpu_seconds(groups: dict[str, Callable[[int, str], bool]]) -> dict[str, float]:
    """CPU seconds used so far by each group of processes; a group is a test on a process's
    session id and command line (`in_session`, `command_has`)."""
    used = dict.fromkeys(groups, 0.0)
    for _, session, command, seconds in _processes():
        for name, member in groups.items():
            if member(session, command):
                used[name] += seconds
                break
    return used


def in_session(session_id: int) -> Callable[[int, str], bool]:
    """A role started with start_new_session: its processes, children included."""
    return lambda session, _: session == session_id


def command_has(*words: str) -> Callable[[int, str], bool]:
    return lambda _, command: any(word in command for word in words)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# The backing services as the benchmarks start them (scripts/lib/common.sh).
SERVICES = {
    "MariaDB": command_has("mariadbd"),
    "RabbitMQ": command_has("beam.smp"),
    "FCM emulator": command_has("fcm_emulator.py"),
    "GCS emulator": command_has("gcs_emulator.py", "gcp-storage-emulator"),
}
