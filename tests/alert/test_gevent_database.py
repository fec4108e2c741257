"""PyMySQL is pure Python: under gevent's monkey-patching its socket waits yield to the
hub, so one greenlet's query does not hold up the others. Proven on the real MariaDB."""

from __future__ import annotations

from harness.services import TestServices
from tests.support.probes import run_pooled_probe

PROBE = r"""
from gevent import monkey; monkey.patch_all()
import json, time, django, gevent
django.setup()
from django.db import connections

def query():
    started = time.monotonic()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT SLEEP(0.5)")
    finished = time.monotonic()
    connections["default"].close()
    return started, finished

greenlets = [gevent.spawn(query) for _ in range(5)]
gevent.joinall(greenlets, raise_error=True)
print(json.dumps([g.value for g in greenlets]))
"""


def test_database_waits_yield_to_other_greenlets(services: TestServices) -> None:
    intervals = run_pooled_probe(services, PROBE, pool_size=5)
    # Every query started before any finished: all five were in the server at once.
    assert max(start for start, _ in intervals) < min(end for _, end in intervals)
