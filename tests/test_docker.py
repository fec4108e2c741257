"""The Docker files for users who have Docker (no engine here: the compose file is validated)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.services import REPO_ROOT


def _compose_command() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


REQUIRED_SECRETS = {
    "DJANGO_SECRET_KEY": "k" * 50,
    "FLOWER_PASSWORD": "f" * 16,
    "DB_PASSWORD": "d" * 16,
    "MYSQL_ROOT_PASSWORD": "r" * 16,
    "RABBITMQ_PASSWORD": "b" * 16,
    "MQTT_CLIENT_ID": "speedcam-main-test",
}


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    command = _compose_command()
    if command is None:
        pytest.fail("neither `docker compose` nor `docker-compose` is installed (./scripts/test.sh installs it)")
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    # Not the .env that ./scripts/up.sh leaves at the root: only what this test passes.
    empty_env_file = REPO_ROOT / ".state" / "compose-test.env"
    empty_env_file.parent.mkdir(exist_ok=True)
    empty_env_file.write_text("")
    return subprocess.run(
        [
            *command,
            "--env-file",
            str(empty_env_file),
            "-f",
            "docker/docker-compose.yml",
            "--project-directory",
            ".",
            "config",
            "--services",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**clean, **env},
    )


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_compose_refuses_to_start_without_each_secret(missing: str) -> None:
    result = _compose_config({k: v for k, v in REQUIRED_SECRETS.items() if k != missing})
    assert result.returncode != 0 and missing in result.stderr


def test_compose_file_is_accepted() -> None:
    result = _compose_config(REQUIRED_SECRETS)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {
        "mysql",
        "rabbitmq",
        "main",
        "subscriber",
        "ocr-worker",
        "alert-worker",
        "maintenance-worker",
        "beat",
        "flower",
    }


@pytest.mark.parametrize("role", ["main", "ocr", "alert"])
def test_each_role_image_installs_only_its_requirements(role: str) -> None:
    dockerfile = (REPO_ROOT / f"docker/Dockerfile.{role}").read_text()
    assert f"pip install -r requirements/{role}.txt" in dockerfile
    assert (REPO_ROOT / "docker/rabbitmq/enabled_plugins").read_text().strip() == "[rabbitmq_management,rabbitmq_mqtt]."
