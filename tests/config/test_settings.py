"""Configuration: every variable is documented; bad values stop start-up with a clear message."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import pytest

from harness.services import REPO_ROOT, documented_settings

READERS = re.compile(
    r"\b(?:env\.\w+|integer|positive_int|port|number|positive_float|boolean|choice|repo_path"
    r'|existing_file|role_text|url|_positive_int|_positive_float|_bool|_choice)\(\s*"([A-Z][A-Z0-9_]+)"'
)


SETTINGS_DEV = "backend.config.settings.dev"


def _settings_read() -> set[str]:
    """Every variable the backend's settings read (backend/config/env.py's readers)."""
    sources = (REPO_ROOT / "backend/config/settings").glob("*.py")
    return {name for path in sources for name in READERS.findall(path.read_text())}


def test_every_variable_the_settings_read_isdocumented_settings() -> None:
    read = _settings_read() | set(READERS.findall((REPO_ROOT / "edge/config.py").read_text()))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', (REPO_ROOT / "edge/config.py").read_text()))
    read -= {"SPEEDCAM_SKIP_DOTENV"}  # internal to the test settings
    assert read, "the pattern found no variables"
    assert read - documented_settings() == set()


def test_entry_scripts_pass_nothing_the_settings_own() -> None:
    """One source per setting: a worker's pool size, database pool and heartbeat come from
    settings, so a `${OCR_CONCURRENCY:-2}` in a script can never disagree with them."""
    owned = _settings_read()
    assert {"OCR_CONCURRENCY", "ALERT_CONCURRENCY", "DB_POOL_SIZE", "BROKER_HEARTBEAT_S"} <= owned
    for script in (REPO_ROOT / "scripts").glob("start_*.sh"):
        used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", script.read_text()))
        assert used & owned == set(), f"{script.name} reads settings: {sorted(used & owned)}"


def test_each_role_takes_its_worker_settings_from_django_settings() -> None:
    probe = (
        "import os, django; django.setup(); from django.conf import settings; "
        "from backend.config.celery import app; "
        "print(app.conf.worker_concurrency, settings.DB_POOL_SIZE, app.conf.broker_heartbeat)"
    )

    def worker_settings(**env: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "SPEEDCAM_SKIP_DOTENV": "true", "DJANGO_SETTINGS_MODULE": SETTINGS_DEV, **env},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    # The gevent alert worker: its greenlets, a shared database pool, no AMQP heartbeat.
    assert worker_settings(SPEEDCAM_ROLE="alert") == ["100", "20", "0"]
    assert worker_settings(SPEEDCAM_ROLE="alert", ALERT_CONCURRENCY="7", DB_POOL_SIZE="5") == ["7", "5", "0"]
    assert worker_settings(SPEEDCAM_ROLE="ocr", OCR_CONCURRENCY="3") == ["3", "0", "60"]
    assert worker_settings(SPEEDCAM_ROLE="maintenance") == ["1", "0", "60"]
    # Empty (as in backend.env.example) is the role's default.
    assert worker_settings(SPEEDCAM_ROLE="alert", DB_POOL_SIZE="", BROKER_HEARTBEAT_S="") == ["100", "20", "0"]


def _start_django(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "SPEEDCAM_SKIP_DOTENV": "true",
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.dev",
            **env,
        },
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OCR_CONCURRENCY": "0"}, "OCR_CONCURRENCY must be 1..64"),
        ({"MQTT_PORT": "eighteen"}, "MQTT_PORT must be an integer"),
        ({"DB_PORT": "70000"}, "DB_PORT must be 1..65535"),
        ({"OCR_MOCK": "maybe"}, "OCR_MOCK must be true or false"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"CELERY_BROKER_URL": "redis://localhost"}, "CELERY_BROKER_URL must be an amqp:// URL"),
        ({"OCR_MAX_RETRIES": "-1"}, "OCR_MAX_RETRIES must be 0..100"),
        ({"OCR_RETRY_BACKOFF_S": "0"}, "OCR_RETRY_BACKOFF_S must be > 0"),
    ],
)
def test_invalid_values_stop_start_up_with_a_clear_message(env: dict[str, str], message: str) -> None:
    result = _start_django(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def _strong(seed: str) -> str:
    return hashlib.sha512(seed.encode()).hexdigest()[:60]


STRONG_PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "backend.config.settings.prod",
    "DJANGO_SECRET_KEY": _strong("secret key"),
    "DB_PASSWORD": _strong("db"),
    "MQTT_PASSWORD": _strong("mqtt"),
    "CELERY_BROKER_URL": f"amqp://speedcam:{_strong('broker')}@127.0.0.1:5672/speedcam",
    "RABBITMQ_ADMIN_PASSWORD": _strong("admin"),
    "FLOWER_PASSWORD": _strong("flower"),
    "DJANGO_ALLOWED_HOSTS": "speedcam.example.org",
}


def _example_value(name: str) -> str:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", (REPO_ROOT / "backend.env.example").read_text(), re.M))[name]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_SECRET_KEY", "dev-insecure-change-me"),
        ("DJANGO_SECRET_KEY", _example_value("DJANGO_SECRET_KEY")),
        ("DJANGO_SECRET_KEY", "a" * 80),  # long, but no entropy
        ("DB_PASSWORD", _example_value("DB_PASSWORD")),
        ("DB_PASSWORD", "speedcam-pass"),
        ("MQTT_PASSWORD", "short"),
        ("CELERY_BROKER_URL", _example_value("CELERY_BROKER_URL")),
        ("RABBITMQ_ADMIN_PASSWORD", "abababababababababab"),
        ("FLOWER_PASSWORD", _example_value("FLOWER_PASSWORD")),
        ("FLOWER_PASSWORD", "change-me"),
    ],
)
def test_production_refuses_example_and_weak_secrets(name: str, value: str) -> None:
    result = _start_django(**{**STRONG_PRODUCTION, name: value})
    assert result.returncode != 0 and "production refuses weak or example secrets" in result.stderr
    assert name.split("_URL")[0] in result.stderr


def test_production_starts_with_strong_secrets_and_check_deploy_is_clean() -> None:
    assert _start_django(**STRONG_PRODUCTION).returncode == 0
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SPEEDCAM_SKIP_DOTENV": "true", **STRONG_PRODUCTION},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_valid_defaults_start() -> None:
    result = _start_django()
    assert result.returncode == 0, result.stderr
