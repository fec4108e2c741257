"""django-db-connection-pool's MySQL backend, with no round trip the pool does not need.

Under gevent a Django connection wrapper lives per greenlet, so per task: every task takes
its connections from the pool and gives them back, and the alert worker does that again
around the push. Three things the stock pool and Django do there cost a round trip each,
and each round trip makes the task wait for its turn on the process's one thread:

- Django asks the server for its version, sql_mode and the like once per wrapper. What the
  server says about itself does not change while the process runs: asked once per process.
- The pool pings every connection it hands out (pre_ping). Here a connection is pinged only
  when it sat in the pool longer than `PING_AFTER_IDLE_S`, or when its last user saw a
  database error on it: one given back moments ago without an error was answering then. A
  dead one is replaced, as pre_ping would.
- The pool rolls back every connection given back to it (reset_on_return). Django runs in
  autocommit and ends every atomic block itself, so a connection usually comes back with no
  transaction open: it is rolled back only when the server says one is (or autocommit is off).

Measured with scripts/bench/alert (docs/perf/README.md): 12 round trips per push before, 4 now.
"""

from __future__ import annotations

import time
from typing import Any

from dj_db_conn_pool.backends.mysql import base
from dj_db_conn_pool.core import pool_container
from pymysql.constants import SERVER_STATUS
from sqlalchemy import event, exc, pool

PING_AFTER_IDLE_S = 1.0
_SERVER_DATA: dict[tuple[str, str, str], dict[str, Any]] = {}
_CHECKED_IN_AT = "speedcam_checked_in_at"
_SUSPECT = "speedcam_suspect"  # its last user saw a database error on it


def _note_checkin(dbapi_connection: Any, record: pool.ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: pool.ConnectionPoolEntry, proxy: Any) -> None:
    checked_in_at = record.info.get(_CHECKED_IN_AT)
    suspect = record.info.pop(_SUSPECT, False)
    if not suspect and (checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_S):
        return  # new, or back moments ago with no error
    try:
        dbapi_connection.ping(reconnect=False)
    except Exception as error:
        # The pool discards this connection and hands out another (or a new one).
        raise exc.DisconnectionError(f"pooled connection did not answer a ping: {error}") from error


def _roll_back_open_transaction(dbapi_connection: Any, record: pool.ConnectionPoolEntry, state: Any) -> None:
    if state.terminate_only or not state.asyncio_safe:
        return  # the connection is being closed: nothing to hand on
    in_transaction = dbapi_connection.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS
    if in_transaction or not dbapi_connection.get_autocommit():
        dbapi_connection.rollback()


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def mysql_server_data(self) -> dict[str, Any]:
        server = (self.alias, self.settings_dict["HOST"], str(self.settings_dict["PORT"]))
        if server not in _SERVER_DATA:
            _SERVER_DATA[server] = base.DatabaseWrapper.mysql_server_data.func(self)
        return _SERVER_DATA[server]

    def close(self) -> None:
        if self.errors_occurred and self.connection is not None:
            # The server may be gone: whoever takes this connection next pings it first.
            self.connection.info[_SUSPECT] = True
        super().close()

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        with pool_container.lock:
            if not pool_container.has(self.alias):
                pool_container.put(self.alias, self._create_pool(conn_params))
        return super().get_new_connection(conn_params)  # checks out of the pool just made

    def _create_pool(self, conn_params: dict[str, Any]) -> pool.QueuePool:
        # POOL_OPTIONS read as django-db-connection-pool reads them, over its defaults.
        defaults = pool_container.pool_default_params
        options = {key.lower(): value for key, value in self.settings_dict.get("POOL_OPTIONS", {}).items()}
        params = {**defaults, **{key: value for key, value in options.items() if key in defaults}}
        params["pre_ping"] = False  # _ping_if_idle instead
        alias_pool = pool.QueuePool(
            lambda: self._get_new_connection(conn_params),
            dialect=self._get_dialect(),
            reset_on_return=None,  # _roll_back_open_transaction instead
            **params,
        )
        event.listen(alias_pool, "checkin", _note_checkin)
        event.listen(alias_pool, "checkout", _ping_if_idle)
        event.listen(alias_pool, "reset", _roll_back_open_transaction)
        return alias_pool
