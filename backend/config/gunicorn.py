"""gunicorn settings the web role always needs (start_main.sh passes the rest as flags)."""

from __future__ import annotations

from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exits leaves its live gauges behind in PROMETHEUS_MULTIPROC_DIR: drop them,
    or /metrics would keep reporting a process that is gone."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
