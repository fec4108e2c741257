"""Database helpers every role shares: connections around a long wait, and conditional
updates of one row that race without deadlocking."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)


def release_pooled_connections() -> None:
    """Give this greenlet's pooled connections back before it waits on the network.

    Under gevent every task holds one connection per database until it ends; a task that
    keeps them through a 50 ms push lets a pool of P connections serve only P tasks at once,
    however many greenlets wait. Released, they serve the other greenlets meanwhile, and the
    task takes one again for its next query. Without a pool (one connection per thread, kept
    for CONN_MAX_AGE) there is nothing to share: closing would only reconnect.
    """
    if not settings.DB_POOL_SIZE:
        return
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.in_atomic_block:
            connection.close()


def update_row_if(
    model: type[ModelT], pk: int, holds: Callable[[ModelT], bool], **fields: Any
) -> tuple[ModelT | None, bool]:
    """Update the row with this primary key if `holds(row)`, deciding under the row's lock.

    Returns the row, with `fields` applied when it was updated (None when there is no such
    row), and whether it was updated.

    Why not one `UPDATE ... WHERE id = %s AND status = %s`: on a table with few candidate
    rows MariaDB may walk a status-led index instead of the primary key, and lock that
    index entry before the row. A racing update that locked the row first (by primary key)
    then waits for the entry while this one waits for the row: a deadlock, and one of them
    is rolled back. Here the row is locked first, by primary key (the only index the lookup
    can use), and the update names the primary key only, so racing writers queue instead.
    """
    database = router.db_for_write(model)
    rows = model._default_manager.using(database)
    with transaction.atomic(using=database):
        row = rows.select_for_update().filter(pk=pk).first()
        if row is None or not holds(row):
            return row, False
        rows.filter(pk=pk).update(**fields)
    if any(hasattr(value, "resolve_expression") for value in fields.values()):
        row.refresh_from_db(using=database)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    return row, True
