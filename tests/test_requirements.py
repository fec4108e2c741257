"""The locks (requirements/locks/*.txt, compiled by scripts/lock.sh) match the top-level pins
they were compiled from, and every package in them carries a hash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.services import REPO_ROOT

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh

REQUIREMENTS = REPO_ROOT / "requirements"
LOCKED_ROLES = ("main", "ocr", "alert", "edge", "test")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` in a requirements file and its -r includes."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(top_level_pins(path.parent / line[3:].strip()))
        elif match := PIN.match(line):
            pins[_name(match.group(1))] = match.group(2)
    return pins


def lock_entries(path: Path) -> dict[str, tuple[str, list[str], bool]]:
    """name -> (version, hashes, pinned at top level) of a pip-compile lock."""
    entries: dict[str, tuple[str, list[str], bool]] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            current = _name(match.group(1))
            entries[current] = (match.group(2), [], False)
        elif current and "--hash=sha256:" in line:
            entries[current][1].append(line.split("--hash=sha256:")[1].strip(" \\"))
        elif current and re.search(r"#\s+(via\s+)?-r requirements/", line):
            version, hashes, _ = entries[current]
            entries[current] = (version, hashes, True)
    return entries


@pytest.mark.parametrize("role", LOCKED_ROLES)
def test_the_lock_is_current(role: str) -> None:
    pins = top_level_pins(REQUIREMENTS / f"{role}.txt")
    lock = lock_entries(REQUIREMENTS / "locks" / f"{role}.txt")
    stale = f"requirements/locks/{role}.txt is stale: run ./scripts/lock.sh {role}"
    for name, version in pins.items():
        assert name in lock, f"{stale} ({name} is not in it)"
        assert lock[name][0] == version, f"{stale} ({name}=={version}, the lock has {lock[name][0]})"
    top_level = {name for name, (_, _, pinned) in lock.items() if pinned}
    assert top_level == set(pins), f"{stale} (pinned there but no longer here: {sorted(top_level - set(pins))})"
    assert f"--output-file=requirements/locks/{role}.txt" in (REQUIREMENTS / "locks" / f"{role}.txt").read_text()


@pytest.mark.parametrize("role", LOCKED_ROLES)
def test_every_locked_package_has_a_hash(role: str) -> None:
    lock = lock_entries(REQUIREMENTS / "locks" / f"{role}.txt")
    assert len(lock) > len(top_level_pins(REQUIREMENTS / f"{role}.txt"))  # transitive ones too
    assert [name for name, (_, hashes, _) in lock.items() if not hashes] == []


def test_every_install_path_uses_a_lock() -> None:
    assert "requirements/locks/" in (REPO_ROOT / "scripts/lib/common.sh").read_text()
    assert "--require-hashes" in (REPO_ROOT / "scripts/lib/common.sh").read_text()
    for dockerfile in (REPO_ROOT / "docker").glob("Dockerfile.*"):
        assert "--require-hashes -r requirements/locks/" in dockerfile.read_text(), dockerfile.name
