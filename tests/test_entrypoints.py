"""Every container entry point as the images run it: the files each Dockerfile copies, the
interpreter found on PATH, and no .venv. Each command of docker/docker-compose.yml and the
default CMD of each Dockerfile must reach ready against the real services.

The one difference from an image: DJANGO_SETTINGS_MODULE is the test settings, because
the test services run with development credentials that production settings refuse
(tests/config covers that refusal; the TLS profile test runs production settings)."""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from backend.messaging.topology import INGEST_QUEUE
from harness.processes import Pipeline, RoleProcess, beat_ready, http_status, stop_all
from harness.services import REPO_ROOT, free_port

# The roles need the test databases to exist (created for the marked tests only).
pytestmark = pytest.mark.django_db(databases="__all__")
VENV_BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((REPO_ROOT / "docker/docker-compose.yml").read_text())


@dataclass
class Dockerfile:
    path: Path
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    copies: list[tuple[list[str], str]] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def parse_dockerfile(path: Path) -> Dockerfile:
    """WORKDIR, ENV, COPY and CMD of a single-stage Dockerfile."""
    parsed = Dockerfile(path)
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        match instruction.upper():
            case "WORKDIR":
                parsed.workdir = rest.strip()
            case "ENV":
                parsed.env.update(pair.split("=", 1) for pair in shlex.split(rest))
            case "COPY":
                *sources, destination = shlex.split(rest)
                parsed.copies.append((sources, destination))
            case "CMD":
                parsed.cmd = json.loads(rest)
    return parsed


def build_image_tree(dockerfile: Dockerfile, root: Path) -> Path:
    """The files the image holds under its WORKDIR, copied from this checkout."""
    app = root / dockerfile.workdir.strip("/")
    app.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for sources, destination in dockerfile.copies:
        target = app / destination
        for source in sources:
            for path in sorted(REPO_ROOT.glob(source.rstrip("/"))):
                if path.is_dir():
                    shutil.copytree(path, target, dirs_exist_ok=True, ignore=ignore)
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / path.name)
    assert not (app / ".venv").exists()
    return app


def _http_answers(url: str) -> bool:
    status = http_status(url)
    return status is not None and (status < 400 or status == 401)  # Flower asks for its login: it is up


@dataclass
class EntryPoint:
    """One way a container is started: an image, its command, and what 'ready' looks like."""

    name: str
    image: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    one_shot: bool = False


def _dockerfiles() -> dict[str, Dockerfile]:
    """Image name -> its Dockerfile, as the compose file builds them."""
    images = {}
    for service in COMPOSE["services"].values():
        if "build" in service:
            images[service["image"]] = parse_dockerfile(REPO_ROOT / service["build"]["dockerfile"])
    return images


def _readiness(command: list[str], env: dict[str, str]) -> dict:
    """The URLs (or, for beat, the file) that say the command is ready."""
    line = " ".join(command)

    def consuming(port_variable: str) -> str:  # backend.common.role_endpoint
        return f"http://127.0.0.1:{env[port_variable]}/ready"

    if "migrate_all" in line:
        return {"one_shot": True}
    if "start_main.sh" in line:
        mode = command[1] if len(command) > 1 else "all"
        web = (f"http://{env['GUNICORN_BIND']}/healthz", f"http://{env['GUNICORN_BIND']}/readyz")
        return {
            "ready_urls": (web if mode in ("web", "all") else ())
            + ((consuming("INGEST_METRICS_PORT"),) if mode in ("subscriber", "all") else ())
        }
    if "start_flower.sh" in line:
        return {"ready_urls": (f"http://127.0.0.1:{env['FLOWER_PORT']}/flower/",)}
    if line.endswith("beat"):
        return {"beat": True}
    for script, port_variable in (
        ("start_ocr_worker.sh", "OCR_METRICS_PORT"),
        ("start_alert_worker.sh", "ALERT_METRICS_PORT"),
        ("start_maintenance.sh", "MAINTENANCE_METRICS_PORT"),
    ):
        if script in line:
            return {"ready_urls": (consuming(port_variable),)}
    raise AssertionError(f"no readiness known for {command}")


def _entry_points() -> list[EntryPoint]:
    dockerfiles = _dockerfiles()
    points = []
    for name, service in COMPOSE["services"].items():
        image = service.get("image", "")
        if image not in dockerfiles:
            continue  # a third-party image (mysql, rabbitmq, caddy, prometheus)
        command = service.get("command") or dockerfiles[image].cmd
        if isinstance(command, str):
            command = shlex.split(command)
        points.append(EntryPoint(f"compose:{name}", image, command))
    for image, dockerfile in dockerfiles.items():
        points.append(EntryPoint(f"{image}:CMD", image, dockerfile.cmd))
    points.append(
        EntryPoint(
            "compose:subscriber(amqp)",
            "speedcam-main",
            ["scripts/start_main.sh", "subscriber"],
            {"INGEST_MODE": "amqp"},
        )
    )
    return points


ENTRY_POINTS = _entry_points()


def _readiness_check(process: RoleProcess, urls: tuple[str, ...], beat: bool) -> bool:
    return all(_http_answers(url) for url in urls) and (not beat or beat_ready(process))


@pytest.fixture(scope="module")
def started(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RoleProcess]]:
    """Every entry point, started at once (2 CPUs: in parallel they take one start's time)."""
    root = tmp_path_factory.mktemp("images")
    dockerfiles = _dockerfiles()
    trees = {image: build_image_tree(dockerfile, root / image) for image, dockerfile in dockerfiles.items()}
    # What the pipeline's roles get beyond this process's own environment: the services'
    # addresses and the test databases.
    services_env = {k: v for k, v in pipeline.env.items() if os.environ.get(k) != v}
    running: dict[str, RoleProcess] = {}
    mqtt_clients = []
    for point in ENTRY_POINTS:
        dockerfile = dockerfiles[point.image]
        app = trees[point.image]
        suffix = uuid.uuid4().hex[:6]
        mqtt_clients.append(f"speedcam-entrypoint-{suffix}")
        env = {
            **services_env,
            **{k: v.replace(dockerfile.workdir, str(app)) for k, v in dockerfile.env.items()},
            # As in the image: no virtualenv, the interpreter is the python on PATH.
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
            "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
            "GUNICORN_WORKERS": "1",
            "FLOWER_PORT": str(free_port()),
            "FLOWER_ADDRESS": "127.0.0.1",
            "FLOWER_BASIC_AUTH": "admin:entrypoint-check",
            "FLOWER_URL_PREFIX": "flower",
            "INGEST_METRICS_PORT": str(free_port()),
            "OCR_METRICS_PORT": str(free_port()),
            "ALERT_METRICS_PORT": str(free_port()),
            "MAINTENANCE_METRICS_PORT": str(free_port()),
            "MQTT_CLIENT_ID": mqtt_clients[-1],
            "OCR_WORKER_NAME": f"entry-ocr-{suffix}@%h",
            "ALERT_WORKER_NAME": f"entry-alert-{suffix}@%h",
            "MAINTENANCE_WORKER_NAME": f"entry-maintenance-{suffix}@%h",
            "BEAT_SCHEDULE_FILE": str(root / f"beat-{suffix}"),
            **point.env,
        }
        env.pop("VIRTUAL_ENV", None)
        expected = _readiness(point.command, env)
        urls, beat = expected.get("ready_urls", ()), expected.get("beat", False)
        process = RoleProcess(
            point.name,
            point.command,
            env,
            root / f"{point.name.replace(':', '_')}.log",
            lambda process, urls=urls, beat=beat: _readiness_check(process, urls, beat),
            cwd=app,
        )
        process.one_shot = expected.get("one_shot", False)
        process.spawn()
        running[point.name] = process
    yield running
    stop_all(running.values())
    # Each subscriber's persistent MQTT session, and the AMQP consumers' ingest_queue, would
    # otherwise keep collecting every later event with nobody to take them.
    with pipeline.services.amqp() as connection:
        for client_id in mqtt_clients:
            connection.default_channel.queue_delete(f"mqtt-subscription-{client_id}qos1")
        INGEST_QUEUE(connection.default_channel).delete()


@pytest.mark.parametrize("point", ENTRY_POINTS, ids=lambda point: point.name)
def test_entry_point_reaches_ready_without_a_virtualenv(point: EntryPoint, started: dict[str, RoleProcess]) -> None:
    process = started[point.name]
    if process.one_shot:
        assert process.process.wait(120) == 0, process.log_text()[-3000:]
        return
    process.wait_ready(timeout=90)


def test_every_image_command_is_covered() -> None:
    """A new service or image cannot slip past the test above."""
    names = {point.name for point in ENTRY_POINTS}
    built = {name for name, service in COMPOSE["services"].items() if service.get("image", "").startswith("speedcam-")}
    assert {f"compose:{name}" for name in built} <= names
    assert {"speedcam-main:CMD", "speedcam-ocr:CMD", "speedcam-alert:CMD"} <= names
    for dockerfile in _dockerfiles().values():
        assert dockerfile.cmd, f"{dockerfile.path.name} has no CMD"
        copied = [source for sources, _ in dockerfile.copies for source in sources]
        assert any(fnmatch.fnmatch("scripts/start_main.sh", source) for source in copied)
