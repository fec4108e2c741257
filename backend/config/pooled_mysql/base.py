"""django-db-connection-pool's MySQL backend, asking the server about itself once per process.

Django asks the server for its version, sql_mode and the like once per DatabaseWrapper. A
wrapper lives per thread, so under gevent it lives per task: every task paid that query
once per database, three extra round trips before its first real query. What the server
says about itself does not change while the process runs.
"""

from __future__ import annotations

from typing import Any

from dj_db_conn_pool.backends.mysql import base

_SERVER_DATA: dict[tuple[str, str, str], dict[str, Any]] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def mysql_server_data(self) -> dict[str, Any]:
        server = (self.alias, self.settings_dict["HOST"], str(self.settings_dict["PORT"]))
        if server not in _SERVER_DATA:
            _SERVER_DATA[server] = base.DatabaseWrapper.mysql_server_data.func(self)
        return _SERVER_DATA[server]
