#!/usr/bin/env python3
"""A local OTLP/HTTP trace receiver: where the roles export spans in development, tests and
benchmarks (Jaeger cannot be installed here; compose runs Jaeger itself).

* `POST /v1/traces`: an OTLP `ExportTraceServiceRequest` (protobuf, optionally gzip),
  decoded with the `opentelemetry-proto` package when read; the last MAX_SPANS spans are
  kept (the requests not read yet are kept whole).
* `GET /_control/spans[?trace_id=...]`: `{"spans": [...]}`, each span with its service,
  name, ids, parent, times, attributes and links.
* `GET /_control/timeline?trace_id=...`: the trace as an HTML timeline, one bar per span,
  indented under its parent (what the README's screenshot shows).
* `POST /_control/reset`: forget every span.

Serve:  python scripts/otlp_receiver.py serve --port 4318
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

MAX_SPANS = 200_000
MAX_UNREAD_REQUESTS = 20_000


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in any_value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(any_value.kvlist_value.values)
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind) if kind else None


def _attributes(key_values: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in key_values}


def decode(body: bytes) -> list[dict[str, Any]]:
    """Every span of one export request, flattened."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "service": resource.get("service.name"),
                        "scope": scope_spans.scope.name,
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "kind": span.kind,
                        "start_ns": span.start_time_unix_nano,
                        "end_ns": span.end_time_unix_nano,
                        "status": span.status.code,
                        "attributes": _attributes(span.attributes),
                        "links": [
                            {"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()} for link in span.links
                        ],
                    }
                )
    return spans


class Receiver:
    """Keeps each export request as it came and decodes on reading: taking spans in costs
    the roles (and the benchmark beside them) as little CPU as a remote collector would."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: deque[bytes] = deque(maxlen=MAX_UNREAD_REQUESTS)
        self.malformed = 0
        self.decoded: deque[dict[str, Any]] = deque(maxlen=MAX_SPANS)

    def add(self, body: bytes) -> None:
        with self.lock:
            self.requests.append(body)

    def select(self, trace_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            while self.requests:
                try:
                    self.decoded.extend(decode(self.requests.popleft()))
                except Exception:  # not an ExportTraceServiceRequest: counted, skipped
                    self.malformed += 1
            return [span for span in self.decoded if trace_id is None or span["trace_id"] == trace_id]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.decoded.clear()


def timeline(spans: list[dict[str, Any]]) -> str:
    """One trace as an HTML page: a bar per span on a common time axis, children under
    their parent, each labelled with its service and name."""
    if not spans:
        return "<!DOCTYPE html><title>trace</title><p>no spans</p>"
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    ids = {span["span_id"] for span in spans}
    for span in sorted(spans, key=lambda s: s["start_ns"]):
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else None
        by_parent.setdefault(parent, []).append(span)
    start = min(span["start_ns"] for span in spans)
    total = max(max(span["end_ns"] for span in spans) - start, 1)
    rows: list[str] = []
    services = sorted({str(span["service"]) for span in spans})

    def walk(parent: str | None, depth: int) -> None:
        for span in by_parent.get(parent, []):
            left = (span["start_ns"] - start) / total * 100
            width = max((span["end_ns"] - span["start_ns"]) / total * 100, 0.3)
            duration_ms = (span["end_ns"] - span["start_ns"]) / 1e6
            label = f"{span['service']} · {span['name']}"
            colour = services.index(str(span["service"])) % 6
            ms_at = min(left + width, 92)
            rows.append(
                f'<div class="row"><div class="label" style="padding-left:{depth * 14}px" '
                f'title="{html.escape(label)}">{html.escape(label)}</div><div class="lane">'
                f'<div class="bar s{colour}" style="left:{left:.2f}%;width:{width:.2f}%"></div>'
                f'<span class="ms" style="left:{ms_at:.2f}%">{duration_ms:.1f} ms</span></div></div>'
            )
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    style = (
        "body{font:13px sans-serif;margin:16px;color:#1f2933}h1{font-size:16px}"
        ".row{display:flex;align-items:center;height:22px;border-bottom:1px solid #eef0f3}"
        ".label{width:430px;flex:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
        ".lane{position:relative;flex:1;height:16px}.bar{position:absolute;height:14px;border-radius:3px}"
        ".ms{position:absolute;padding-left:6px;font-size:11px;color:#52606d}"
        ".s0{background:#1c7ed6}.s1{background:#f59f00}.s2{background:#2f9e44}.s3{background:#7048e8}"
        ".s4{background:#0c8599}.s5{background:#d6336c}"
    )
    title = f"trace {spans[0]['trace_id']} · {len(spans)} spans · {total / 1e6:.1f} ms"
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{''.join(rows)}</body></html>"
    )


class Handler(BaseHTTPRequestHandler):
    server: ReceiverServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        trace_id = parse_qs(url.query).get("trace_id", [None])[0]
        if url.path == "/_control/spans":
            body = json.dumps({"spans": self.server.receiver.select(trace_id)}).encode()
            self._reply(200, body, "application/json")
        elif url.path == "/_control/timeline":
            self._reply(200, timeline(self.server.receiver.select(trace_id)).encode(), "text/html; charset=utf-8")
        elif url.path == "/healthz":
            self._reply(200, b'{"status": "ok"}', "application/json")
        else:
            self._reply(404, b"{}", "application/json")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/v1/traces":
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            self.server.receiver.add(body)
            self._reply(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")
        elif self.path == "/_control/reset":
            self.server.receiver.reset()
            self._reply(200, b"{}", "application/json")
        else:
            self._reply(404, b"{}", "application/json")


class ReceiverServer(ThreadingHTTPServer):
    request_queue_size = 256  # a burst of exports must not wait a second for a dropped SYN
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.receiver = Receiver()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4318)
    args = parser.parse_args()
    server = ReceiverServer((args.host, args.port))
    print(f"OTLP/HTTP receiver on http://{args.host}:{args.port}/v1/traces", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
