"""Races against the real database: the same action in several threads, released at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def at_once(action: Callable[[], T], *, times: int = 8) -> list[T]:
    """Run `action` in `times` threads that start together, each on its own database
    connections (closed when it ends); return what each returned. An action that raises
    returns nothing, so callers that expect errors catch them inside `action`."""
    start = threading.Barrier(times)
    results: list[T] = []

    def run() -> None:
        start.wait()
        try:
            results.append(action())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
