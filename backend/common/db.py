"""Database connections around a long wait."""

from __future__ import annotations

from django.conf import settings
from django.db import connections


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
