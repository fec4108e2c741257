"""The Docker files for users who have Docker (no engine here: the compose file is validated)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from harness.services import REPO_ROOT, documented_settings

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


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


def _compose_config(env: dict[str, str], *, services_only: bool = True) -> subprocess.CompletedProcess:
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
            *(["--services"] if services_only else []),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        # The containers' env file, which a fresh checkout does not have.
        env={**clean, "SPEEDCAM_ENV_FILE": str(empty_env_file), **env},
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


def test_each_worker_is_healthy_only_while_it_consumes() -> None:
    result = _compose_config(REQUIRED_SECRETS, services_only=False)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name, port_variable in (
        ("subscriber", "INGEST_METRICS_PORT"),
        ("ocr-worker", "OCR_METRICS_PORT"),
        ("alert-worker", "ALERT_METRICS_PORT"),
        ("maintenance-worker", "MAINTENANCE_METRICS_PORT"),
    ):
        check = " ".join(services[name]["healthcheck"]["test"])
        # "$$": compose hands the container "${...}", for its shell to expand (.env may move the port).
        assert f"http://127.0.0.1:$${{{port_variable}:-" in check and check.endswith("/ready"), (name, check)


@pytest.mark.parametrize("role", ["main", "ocr", "alert"])
def test_each_role_image_installs_only_its_requirements(role: str) -> None:
    dockerfile = (REPO_ROOT / f"docker/Dockerfile.{role}").read_text()
    assert f"pip install --require-hashes -r requirements/locks/{role}.txt" in dockerfile
    plugins = (REPO_ROOT / "docker/rabbitmq/enabled_plugins").read_text()
    assert {"rabbitmq_management", "rabbitmq_mqtt", "rabbitmq_prometheus"} <= set(re.findall(r"rabbitmq_\w+", plugins))


COMPOSE_TEXT = (REPO_ROOT / "docker/docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
BACKEND_SERVICES = [name for name, service in SERVICES.items() if service.get("image", "").startswith("speedcam-")]
# What each role reads from a mounted file: GCS evidence (web signs links, OCR downloads,
# retention deletes), Firebase pushes, the scraper's token, the TLS keys.
NEEDED_SECRETS = {
    "main": {"gcs-service-account", "metrics-token"},
    "ocr-worker": {"gcs-service-account"},
    "maintenance-worker": {"gcs-service-account"},
    "alert-worker": {"firebase-service-account"},
    "proxy": {"tls-cert", "tls-key"},
    "rabbitmq": {"tls-ca", "tls-cert", "tls-key"},
    "prometheus": {"metrics-token"},
}


def _secret_names(service: dict) -> set[str]:
    return {entry if isinstance(entry, str) else entry["source"] for entry in service.get("secrets", [])}


def test_every_file_and_script_the_compose_file_names_exists() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            assert (REPO_ROOT / service["build"]["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
        command = service.get("command") or []
        if command and command[0].startswith("scripts/"):
            script = REPO_ROOT / command[0]
            assert script.is_file() and os.access(script, os.X_OK), f"{name}: {command[0]}"
            copied = (REPO_ROOT / "docker" / f"Dockerfile.{service['image'].removeprefix('speedcam-')}").read_text()
            assert "COPY scripts/start_*.sh scripts/" in copied
        if command[:2] == ["python", "manage.py"]:
            assert list(REPO_ROOT.glob(f"backend/*/management/commands/{command[2]}.py")), f"{name}: {command}"


def test_every_variable_the_compose_file_reads_is_documented() -> None:
    documented = documented_settings()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", COMPOSE_TEXT))
    assert used - documented == set(), "document these in backend.env.example"
    backend_env = COMPOSE["x-backend-env"]
    assert set(backend_env) - documented == set()


def test_each_service_gets_the_secrets_it_needs() -> None:
    for name in BACKEND_SERVICES:
        assert SERVICES[name]["env_file"] == ["${SPEEDCAM_ENV_FILE:-.env}"], f"{name} must read the env file"
    for name, needed in NEEDED_SECRETS.items():
        assert needed <= _secret_names(SERVICES[name]), f"{name} lacks {needed - _secret_names(SERVICES[name])}"
    for name, service in SERVICES.items():
        environment = service.get("environment") or {}
        for variable, value in environment.items():
            if str(value).startswith("/run/secrets/"):
                secret = str(value).removeprefix("/run/secrets/")
                assert secret in _secret_names(service), f"{name}: {variable} points at {secret}, not mounted"
    assert set(COMPOSE["secrets"]) == set().union(*NEEDED_SECRETS.values())


def test_only_tls_listeners_are_published() -> None:
    published = {
        (name, str(port).rsplit(":", 1)[-1].split("/")[0])
        for name, service in SERVICES.items()
        for port in service.get("ports", [])
        if not str(port).startswith("127.0.0.1:")
    }
    assert published == {("proxy", "443"), ("rabbitmq", "8883"), ("rabbitmq", "5671")}
    for name in BACKEND_SERVICES:
        assert SERVICES[name]["environment"]["METRICS_ADDR"] == "0.0.0.0", f"{name}'s metrics must reach Prometheus"
