"""The whole pipeline as role processes, for drills and benchmarks run from scripts/.

Unlike the test session's `Pipeline` it takes its settings from the environment the
calling script prepared (a service profile's `service_env`) plus explicit overrides,
and it includes the maintenance worker and beat.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.processes import RoleProcess
from tests.support.services import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"


def _celery_ready(process: RoleProcess) -> bool:
    return " ready." in process.log_text()


def _subscriber_ready(process: RoleProcess) -> bool:
    return "mqtt subscriber subscribed" in process.log_text() or "amqp ingest consuming" in process.log_text()


class Roles:
    """The pipeline's processes, started from the project's entry scripts."""

    def __init__(self, log_dir: Path, overrides: dict[str, str], *, periodic_jobs: bool = True) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.env = {**os.environ, **overrides}
        self.subscriber = self.role("subscriber", [str(SCRIPTS / "start_main.sh"), "subscriber"], _subscriber_ready)
        self.ocr = self.role("ocr-worker", [str(SCRIPTS / "start_ocr_worker.sh")], _celery_ready)
        self.alert = self.role("alert-worker", [str(SCRIPTS / "start_alert_worker.sh")], _celery_ready)
        self.all: tuple[RoleProcess, ...] = (self.ocr, self.alert, self.subscriber)
        if periodic_jobs:
            self.maintenance = self.role(
                "maintenance-worker", [str(SCRIPTS / "start_maintenance.sh"), "worker"], _celery_ready
            )
            self.beat = self.role(
                "beat",
                [str(SCRIPTS / "start_maintenance.sh"), "beat"],
                lambda p: "beat: Starting..." in p.log_text(),
                BEAT_SCHEDULE_FILE=str(log_dir / "celerybeat-schedule"),
            )
            self.all = (self.ocr, self.alert, self.maintenance, self.beat, self.subscriber)

    def role(self, name: str, command: list[str], ready: Callable[[RoleProcess], bool], **extra: str) -> RoleProcess:
        return RoleProcess(name, command, {**self.env, **extra}, self.log_dir / f"{name}.log", ready)

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
            for process in processes:
                process.stop()
            raise errors[0]

    def stop(self) -> None:
        for process in self.all:
            process.stop()

    @staticmethod
    def restart(process: RoleProcess, *, pause_s: float = 2.0) -> None:
        """kill -9 (its whole process group), wait, start again."""
        process.stop(signal.SIGKILL)
        time.sleep(pause_s)
        process.start()
