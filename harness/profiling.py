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


def _stat_fields() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/PID/stat after the command name) of every process now
    running: [0] state, [1] parent pid, [3] session id, [11] and [12] user and system ticks."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile


def _processes() -> Iterator[tuple[int, int, str, float]]:
    """(pid, session id, command line, CPU seconds used) of every process now running."""
    ticks = os.sysconf("SC_CLK_TCK")
    for pid, fields in _stat_fields():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        yield pid, int(fields[3]), command, (int(fields[11]) + int(fields[12])) / ticks


def children(pid: int) -> list[int]:
    """The processes `pid` started (a prefork worker's children)."""
    return sorted(child for child, fields in _stat_fields() if fields[1] == str(pid))


def session_pids(session_id: int) -> list[int]:
    """Every process of a session (a role started with start_new_session), its leader first."""
    return sorted(pid for pid, fields in _stat_fields() if int(fields[3]) == session_id)


def memory_mib(pid: int) -> dict[str, float]:
    """RSS, PSS and private (clean + dirty) memory of a process, in MiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return {
        "rss": values["Rss"] / 1024,
        "pss": values["Pss"] / 1024,
        "private": (values["Private_Clean"] + values["Private_Dirty"]) / 1024,
    }


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
