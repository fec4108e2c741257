"""The role processes, started from the project's entry scripts, for tests, benchmarks and drills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from harness.services import REPO_ROOT, TestServices, free_port

SCRIPTS = REPO_ROOT / "scripts"
SUBSCRIBER_METRICS_PORT = 9218
OCR_METRICS_PORT = 9219
ALERT_METRICS_PORT = 9220
MAINTENANCE_METRICS_PORT = 9221
DB_NAME_VARIABLES = {
    "default": "DB_NAME",
    "vehicles_db": "DB_VEHICLES_NAME",
    "detections_db": "DB_DETECTIONS_NAME",
    "notifications_db": "DB_NOTIFICATIONS_NAME",
}


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


class RoleProcess:
    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log_path: Path,
        ready: Callable[[RoleProcess], bool],
        *,
        cwd: Path = REPO_ROOT,
    ) -> None:
        self.name, self.command, self.env, self.log_path, self._ready = name, command, env, log_path, ready
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self.spawned_at = 0.0

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready."""
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.spawned_at = time.time() - 1  # file times may be coarser than this clock
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, timeout: float = 60.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_for(lambda: self.alive_or_raise() and self.is_ready(), timeout=timeout, what=f"{self.name} ready")

    def is_ready(self) -> bool:
        return bool(self._ready(self))

    def alive_or_raise(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        self.signal(sig)
        self.wait_stopped(timeout)

    def signal(self, sig: int) -> None:
        """Send `sig` to the process's whole group, if it still runs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def wait_stopped(self, timeout: float = 30.0) -> None:
        """Wait for the process to exit; kill its group if it takes longer than `timeout`."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log_text(self, since_start: bool = True) -> str:
        data = self.log_path.read_bytes()
        return data[self._offset :].decode("utf-8", "replace") if since_start else data.decode("utf-8", "replace")

    def log_events(self) -> list[dict[str, Any]]:
        """The JSON log lines of this process (across restarts)."""
        events = []
        for line in self.log_path.read_text("utf-8", "replace").splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return events


def stop_all(processes: Iterable[RoleProcess], sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Stop the processes side by side: all are signalled before any is waited for."""
    processes = list(processes)
    for process in processes:
        process.signal(sig)
    for process in processes:
        process.wait_stopped(timeout)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status `url` answers with now (after redirects); None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # refused, timed out
        return None


def endpoint_ready(url: str) -> bool:
    """Whether `url` answers 200 now."""
    return http_status(url) == 200


class Consuming:
    """Readiness of a worker role: its endpoint's /ready answers 200 once it consumes
    (backend.common.role_endpoint). The endpoint listens on the port that the process's
    `port_variable` names."""

    def __init__(self, port_variable: str) -> None:
        self.port_variable = port_variable

    def __call__(self, process: RoleProcess) -> bool:
        return endpoint_ready(f"http://127.0.0.1:{process.env[self.port_variable]}/ready")


def beat_ready(process: RoleProcess) -> bool:
    """Beat has no endpoint: it is ready once it has opened its schedule file (shelve may add a suffix)."""
    schedule = Path(process.env["BEAT_SCHEDULE_FILE"])
    return any(_modified_since(path, process.spawned_at) for path in schedule.parent.glob(f"{schedule.name}*"))


def _modified_since(path: Path, moment: float) -> bool:
    try:
        return path.stat().st_mtime >= moment
    except FileNotFoundError:  # listed, then replaced: shelve rewrites its .bak/.dat as it saves
        return False


class Roles:
    """The pipeline's role processes, started from the project's entry scripts: the
    subscriber, the OCR worker (prefork) and the alert worker (gevent), and with
    `periodic_jobs` the maintenance worker and beat. Tests (`Pipeline`), benchmarks and
    drills all run the roles through it."""

    def __init__(self, log_dir: Path, env: dict[str, str], *, periodic_jobs: bool = False) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.env = env
        self.subscriber = self.role(
            "subscriber", [str(SCRIPTS / "start_main.sh"), "subscriber"], Consuming("INGEST_METRICS_PORT")
        )
        self.ocr = self.role("ocr-worker", [str(SCRIPTS / "start_ocr_worker.sh")], Consuming("OCR_METRICS_PORT"))
        self.alert = self.role(
            "alert-worker", [str(SCRIPTS / "start_alert_worker.sh")], Consuming("ALERT_METRICS_PORT")
        )
        self.all: tuple[RoleProcess, ...] = (self.ocr, self.alert, self.subscriber)
        if periodic_jobs:
            self.maintenance, self.beat = self.maintenance_roles()
            self.all = (self.ocr, self.alert, self.maintenance, self.beat, self.subscriber)

    @classmethod
    def from_environment(cls, log_dir: Path, overrides: dict[str, str], *, periodic_jobs: bool = True) -> Roles:
        """The roles on the settings the calling script prepared (a service profile's
        `service_env`, exported) plus `overrides`: benchmarks and drills."""
        return cls(log_dir, {**os.environ, **overrides}, periodic_jobs=periodic_jobs)

    def role(self, name: str, command: list[str], ready: Callable[[RoleProcess], bool], **env: str) -> RoleProcess:
        """A role process on these settings (not started). A role that is ready when its
        endpoint says so gets an endpoint: on a free port where the settings turn it off."""
        env = {**self.env, **env}
        if isinstance(ready, Consuming) and env.get(ready.port_variable, "0") == "0":
            env[ready.port_variable] = str(free_port())
        return RoleProcess(name, command, env, self.log_dir / f"{name}.log", ready)

    def maintenance_roles(self, **env: str) -> tuple[RoleProcess, RoleProcess]:
        """The maintenance worker and beat (not started)."""
        script = str(SCRIPTS / "start_maintenance.sh")
        schedule = str(self.log_dir / "celerybeat-schedule")
        worker = self.role("maintenance-worker", [script, "worker"], Consuming("MAINTENANCE_METRICS_PORT"), **env)
        beat = self.role("beat", [script, "beat"], beat_ready, BEAT_SCHEDULE_FILE=schedule, **env)
        return worker, beat

    def start(self, processes: tuple[RoleProcess, ...] | None = None) -> None:
        """Start the processes in parallel and wait until each is ready."""
        processes = processes or self.all
        errors: list[BaseException] = []

        def start(process: RoleProcess) -> None:
            try:
                process.start()
            except BaseException as error:  # re-raised below, in the caller's thread
                errors.append(error)

        threads = [threading.Thread(target=start, args=(process,)) for process in processes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            stop_all(processes)
            raise errors[0]

    def stop(self) -> None:
        stop_all(self.all)

    @staticmethod
    def restart(process: RoleProcess, *, pause_s: float = 2.0) -> None:
        """kill -9 (its whole process group), wait, start again."""
        process.stop(signal.SIGKILL)
        time.sleep(pause_s)
        process.start()

    def all_log_events(self) -> list[dict[str, Any]]:
        events = [event for process in self.all for event in process.log_events()]
        return sorted(events, key=lambda event: event.get("created", 0.0))


class Pipeline(Roles):
    """The test session's roles: the test profile's services and pytest's databases, with
    short retries and timeouts so that failure paths run in seconds."""

    def __init__(self, *, services: TestServices, databases: dict[str, str], log_dir: Path) -> None:
        self.services = services
        env = {
            **os.environ,
            **services.env,
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
            "SPEEDCAM_SKIP_DOTENV": "true",
            "OCR_MOCK": "true",
            "FCM_MOCK": "false",  # the real firebase-admin SDK, against the FCM emulator
            "FCM_TIMEOUT_S": "2",
            "ALERT_CLAIM_STALE_S": "3",
            "OCR_CONCURRENCY": "2",
            "ALERT_CONCURRENCY": "20",
            "OCR_MAX_RETRIES": "2",
            "OCR_RETRY_BACKOFF_S": "0.2",
            "OCR_RETRY_BACKOFF_MAX_S": "0.5",
            "GCS_RETRY_DEADLINE_S": "1",
            "ALERT_MAX_RETRIES": "2",
            "ALERT_RETRY_BACKOFF_S": "0.2",
            "MQTT_CLIENT_ID": "speedcam-test-subscriber",
            "INGEST_METRICS_PORT": str(SUBSCRIBER_METRICS_PORT),
            "OCR_METRICS_PORT": str(OCR_METRICS_PORT),
            "ALERT_METRICS_PORT": str(ALERT_METRICS_PORT),
            "MAINTENANCE_METRICS_PORT": str(MAINTENANCE_METRICS_PORT),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        env.update({DB_NAME_VARIABLES[alias]: name for alias, name in databases.items()})
        super().__init__(log_dir, env)
        # A database pool smaller than the greenlets: a task that kept its connections
        # through the push would cap the sends in flight at the pool's size.
        self.alert.env["DB_POOL_SIZE"] = "4"

    @staticmethod
    def subscriber_metric(name: str, **labels: str) -> float:
        """A sample from the subscriber's Prometheus endpoint (0 when absent)."""
        return scrape(SUBSCRIBER_METRICS_PORT, name, **labels)


def scrape(port: int, name: str, **labels: str) -> float:
    """The sum of the matching samples on a Prometheus endpoint (0 when absent)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )
