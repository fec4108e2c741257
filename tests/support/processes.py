"""Real role processes for integration tests, started from the project's entry scripts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support.services import REPO_ROOT, TestServices

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

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready."""
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self, timeout: float = 60.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_for(lambda: self.alive_or_raise() and self._ready(self), timeout=timeout, what=f"{self.name} ready")

    def alive_or_raise(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
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


def _celery_ready(process: RoleProcess) -> bool:
    return " ready." in process.log_text()


def _subscriber_ready(process: RoleProcess) -> bool:
    return "mqtt subscriber subscribed" in process.log_text()


class Pipeline:
    """The subscriber, the OCR worker (prefork) and the alert worker (gevent)."""

    def __init__(self, *, services: TestServices, databases: dict[str, str], log_dir: Path) -> None:
        self.services = services
        self.log_dir = log_dir
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
        self.env = env
        scripts = REPO_ROOT / "scripts"
        self.subscriber = RoleProcess(
            "subscriber",
            [str(scripts / "start_main.sh"), "subscriber"],
            env,
            log_dir / "subscriber.log",
            _subscriber_ready,
        )
        self.ocr = RoleProcess(
            "ocr-worker", [str(scripts / "start_ocr_worker.sh")], env, log_dir / "ocr-worker.log", _celery_ready
        )
        self.alert = RoleProcess(
            "alert-worker", [str(scripts / "start_alert_worker.sh")], env, log_dir / "alert-worker.log", _celery_ready
        )

    def start(self) -> None:
        self.ocr.start()
        self.alert.start()
        self.subscriber.start()

    def stop(self) -> None:
        for process in (self.subscriber, self.ocr, self.alert):
            process.stop()

    def all_log_events(self) -> list[dict[str, Any]]:
        events = [event for process in (self.subscriber, self.ocr, self.alert) for event in process.log_events()]
        return sorted(events, key=lambda event: event.get("created", 0.0))

    def role(self, name: str, command: list[str], ready: Callable[[RoleProcess], bool], **env: str) -> RoleProcess:
        """Another role process on this pipeline's settings (not started)."""
        return RoleProcess(name, command, {**self.env, **env}, self.log_dir / f"{name}.log", ready)

    def maintenance_roles(self, **env: str) -> tuple[RoleProcess, RoleProcess]:
        """The maintenance worker and beat (not started)."""
        script = str(REPO_ROOT / "scripts" / "start_maintenance.sh")
        schedule = str(self.log_dir / "celerybeat-schedule")
        worker = self.role("maintenance-worker", [script, "worker"], _celery_ready, **env)
        beat = self.role("beat", [script, "beat"], _beat_ready, BEAT_SCHEDULE_FILE=schedule, **env)
        return worker, beat

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


def _beat_ready(process: RoleProcess) -> bool:
    return "beat: Starting..." in process.log_text()
