"""The alert worker's connection pool (backend.config.pooled_mysql) on the real MariaDB: a
connection comes back from the pool clean and alive, without a round trip when it already is."""

from __future__ import annotations

from harness.services import TestServices
from tests.support.probes import run_pooled_probe

PROBE = r"""
import json, django
django.setup()
from django.db import connections
from backend.config.pooled_mysql import base

def session(sql):
    with connections["default"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()

def given_back_and_taken_again():
    connections["default"].close()  # back to the pool
    return session("SELECT CONNECTION_ID()")[0]

out = {}
first = session("SELECT CONNECTION_ID()")[0]
rollbacks_before = int(session("SHOW SESSION STATUS LIKE 'Com_rollback'")[1])
out["same_connection"] = given_back_and_taken_again() == first
out["rollbacks_when_clean"] = int(session("SHOW SESSION STATUS LIKE 'Com_rollback'")[1]) - rollbacks_before

session("START TRANSACTION")
session("SELECT 1")
out["open_transaction_before"] = session("SELECT @@in_transaction")[0]
out["same_connection_after_open"] = given_back_and_taken_again() == first
out["open_transaction_after"] = session("SELECT @@in_transaction")[0]

import pymysql
from django.db import OperationalError
settings = connections["default"].settings_dict

def kill(connection_id):
    admin = pymysql.connect(host=settings["HOST"], port=int(settings["PORT"]), user=settings["USER"],
                            password=settings["PASSWORD"], database=settings["NAME"])
    admin.cursor().execute(f"KILL CONNECTION {connection_id}")
    admin.close()

# Killed while a task holds it: that task fails, the next one at once gets a live connection.
kill(first)
try:
    session("SELECT 1")
    out["query_on_killed_failed"] = False
except OperationalError:
    out["query_on_killed_failed"] = True
second = given_back_and_taken_again()
out["replaced_after_error"] = second not in (None, first)

# Killed while idle in the pool: pinged on its next checkout, and replaced.
connections["default"].close()
kill(second)
base.PING_AFTER_IDLE_S = 0.0  # it has been idle "long enough"
out["replaced_after_idle"] = session("SELECT CONNECTION_ID()")[0] not in (None, second)
print(json.dumps(out))
"""


def test_pool_hands_out_clean_live_connections(services: TestServices) -> None:
    found = run_pooled_probe(services, PROBE, pool_size=1)
    assert found == {
        "same_connection": True,
        "rollbacks_when_clean": 0,  # given back with no transaction open: no ROLLBACK round trip
        "open_transaction_before": 1,
        "same_connection_after_open": True,
        "open_transaction_after": 0,  # given back mid-transaction: rolled back before reuse
        "query_on_killed_failed": True,
        "replaced_after_error": True,  # its user saw the error: the next checkout pings it
        "replaced_after_idle": True,  # dead after an idle spell: pinged, discarded, replaced
    }
