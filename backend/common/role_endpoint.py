"""Each worker role's HTTP endpoint: its Prometheus metrics, and `/ready`.

`/ready` answers 200 only while the role consumes its queue or topic, and 503 before
(connecting, loading a model) and after (disconnected, shutting down). A process that
merely runs is not ready: the orchestrator's readiness probe, `up.sh` and the test
harness all ask this endpoint rather than reading logs.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, Gauge, make_wsgi_app

READY_PATH = "/ready"
# livemax: in the prefork OCR worker only the parent consumes; a child's 0 must not hide it.
CONSUMING = Gauge("speedcam_consuming", "1 while this process consumes its queue or topic", multiprocess_mode="livemax")
_consuming = threading.Event()


def mark_consuming(consuming: bool) -> None:
    """Say whether this process now takes work from the broker."""
    if consuming:
        _consuming.set()
    else:
        _consuming.clear()
    CONSUMING.set(1 if consuming else 0)


def is_consuming() -> bool:
    return _consuming.is_set()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would drown the role's own log."""


def serve(port: int, addr: str, registry: CollectorRegistry = REGISTRY) -> None:
    """Serve /metrics (any other path too, as prometheus_client does) and /ready on a daemon thread."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == READY_PATH:
            ready = is_consuming()
            start_response("200 OK" if ready else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"consuming\n" if ready else b"not consuming\n"]
        return metrics(environ, start_response)

    family = socket.getaddrinfo(addr or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_class = type("RoleEndpointServer", (_Server,), {"address_family": family})  # METRICS_ADDR may be IPv6
    server: WSGIServer = make_server(addr, port, app, server_class=server_class, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="role-endpoint", daemon=True).start()
