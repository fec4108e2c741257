"""Reading and validating settings from the environment (and `.env`).

Every setting is checked when the process starts: a value out of range stops it with
ImproperlyConfigured naming the variable, instead of failing on the first message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

REPO_ROOT = Path(__file__).resolve().parents[2]

env = environ.Env()
T = TypeVar("T")


def read_dotenv() -> None:
    """Take what `.env` sets, unless the environment already does or SPEEDCAM_SKIP_DOTENV."""
    if not env.bool("SPEEDCAM_SKIP_DOTENV", default=False):
        environ.Env.read_env(REPO_ROOT / ".env", overwrite=False)


def _read(name: str, default: T, cast: Callable[..., T], kind: str) -> T:
    """The variable cast by environ's `cast` reader (int, float); unset: the default."""
    try:
        return cast(name, default=default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}: {exc}") from exc


def integer(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer in [minimum, maximum]; unset or empty: the default (which may depend on
    the process's role)."""
    if not env.str(name, default="").strip():
        return default
    value = _read(name, default, env.int, "an integer")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is None:
            bound = f">= {minimum}"
        elif minimum is None:
            bound = f"<= {maximum}"
        else:
            bound = f"{minimum}..{maximum}"
        raise ImproperlyConfigured(f"{name} must be {bound}, got {value}")
    return value


def positive_int(name: str, default: int, *, maximum: int | None = None) -> int:
    return integer(name, default, minimum=1, maximum=maximum)


def port(name: str, default: int) -> int:
    """A TCP port to listen on; 0 switches the listener off."""
    value = _read(name, default, env.int, "an integer")
    if not 0 <= value <= 65535:
        raise ImproperlyConfigured(f"{name} must be 0..65535 (0: off), got {value}")
    return value


def number(name: str, default: float, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    """A number in [minimum, maximum]."""
    value = _read(name, default, env.float, "a number")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"{minimum:g}..{maximum:g}" if maximum is not None else f">= {minimum:g}"
        raise ImproperlyConfigured(f"{name} must be {bound}, got {value}")
    return value


def positive_float(name: str, default: float) -> float:
    value = _read(name, default, env.float, "a number")
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be > 0, got {value}")
    return value


def boolean(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def choice(name: str, default: str, choices: set[str]) -> str:
    value = env.str(name, default=default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def _from_repo_root(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO_ROOT / path


def repo_path(name: str, default: str) -> Path:
    """A directory setting; relative paths are relative to the repository root."""
    return _from_repo_root(env.str(name, default=default))


def repo_paths(name: str, default: str) -> tuple[Path, ...]:
    """One or more paths separated by commas, each as repo_path reads it."""
    parts = [part.strip() for part in env.str(name, default=default).split(",")]
    if not all(parts):
        raise ImproperlyConfigured(f"{name} must list one or more paths separated by commas, got {parts!r}")
    return tuple(map(_from_repo_root, parts))


def renamed(old: str, new: str, meaning: str) -> None:
    """Refuse a setting that was renamed, rather than ignore it silently."""
    if env.str(old, default=""):
        raise ImproperlyConfigured(f"{old} is now {new}: {meaning}")


def existing_file(name: str) -> str:
    """A path that must name a file when set; empty when unset."""
    value = env.str(name, default="")
    if value and not Path(value).is_file():
        raise ImproperlyConfigured(f"{name}: {value} is not a file")
    return value


def role_text(name: str, role: str, default: str = "") -> str:
    """`NAME_<ROLE>` when set (this role's own credential), else `NAME`."""
    return env.str(f"{name}_{role.upper()}", default="") or env.str(name, default=default)


def url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    value = env.str(name, default=default)
    if value and not value.startswith(schemes):
        raise ImproperlyConfigured(f"{name} must be a {'/'.join(schemes)} URL, got {value!r}")
    return value
