#!/usr/bin/env python3
"""A local stand-in for Firebase Cloud Messaging, for development, tests and benchmarks.

It speaks enough of the real protocols for the unmodified firebase-admin SDK:
* OAuth 2.0 token endpoint `POST /token` (the service account's `token_uri`),
* FCM HTTP v1 `POST /v1/projects/{project}/messages:send`.

It records every message it accepted, and can be told to answer slowly or with the
FCM errors a real deployment meets:
* `POST /_control/config` with `{"latency_ms": 50, "rules": [{"error": "UNREGISTERED",
  "token": "t" (optional: any token), "times": 1 (optional: forever), "retry_after": 2}]}`
* `POST /_control/reset`: forget messages, rules and counters
* `GET /_control/messages`: `{"messages": [...], "refused": [...], "max_in_flight": n,
  "token_requests": n}`
* `GET /_control/summary`: the counts alone, cheap to poll during a benchmark:
  `{"accepted": n, "refused": n, "distinct_tokens": n, "first_received_at": t,
  "last_received_at": t, "in_flight": n, "max_in_flight": n}`

Serve (standard library only):   python scripts/fcm_emulator.py serve --port 9099
Write a service-account file whose token_uri points here (needs `cryptography`, which
google-auth brings):  python scripts/fcm_emulator.py service-account --out sa.json \
    --project speedcam-local --token-uri http://127.0.0.1:9099/token
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCESS_TOKEN = "fcm-emulator-access-token"
SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")

# FCM v1 error code -> (HTTP status, canonical status)
FCM_ERRORS: dict[str, tuple[int, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND"),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
    "INTERNAL": (500, "INTERNAL"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED"),
}


class EmulatorState:
    def __init__(self, latency_ms: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.latency_s = latency_ms / 1000
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.messages: list[dict[str, Any]] = []
            self.refused: list[dict[str, Any]] = []
            self.rules: list[dict[str, Any]] = []
            self.in_flight = 0
            self.max_in_flight = 0
            self.token_requests = 0

    def configure(self, config: dict[str, Any]) -> None:
        with self.lock:
            if "latency_ms" in config:
                self.latency_s = float(config["latency_ms"]) / 1000
            if "rules" in config:
                for rule in config["rules"]:
                    if rule.get("error") not in FCM_ERRORS:
                        raise ValueError(f"unknown error {rule.get('error')!r}; one of {sorted(FCM_ERRORS)}")
                self.rules = [dict(rule) for rule in config["rules"]]

    def matching_rule(self, token: str | None) -> dict[str, Any] | None:
        with self.lock:
            for rule in self.rules:
                if rule.get("token") not in (None, token):
                    continue
                if rule.get("times") is not None:
                    if rule["times"] <= 0:
                        continue
                    rule["times"] -= 1
                return dict(rule)
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK pools its connections
    # A reply is two writes (headers, body). With Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers: 40 ms added to every push, which FCM does not add.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a benchmark sends thousands of requests

    def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/_control/messages":
            with state.lock:
                body = {
                    "messages": list(state.messages),
                    "refused": list(state.refused),
                    "in_flight": state.in_flight,
                    "max_in_flight": state.max_in_flight,
                    "token_requests": state.token_requests,
                }
            self._reply(200, body)
        elif self.path == "/_control/summary":
            with state.lock:
                received = [message["received_at"] for message in state.messages]
                body = {
                    "accepted": len(state.messages),
                    "refused": len(state.refused),
                    "distinct_tokens": len({message["message"].get("token") for message in state.messages}),
                    "first_received_at": min(received, default=None),
                    "last_received_at": max(received, default=None),
                    "in_flight": state.in_flight,
                    "max_in_flight": state.max_in_flight,
                }
            self._reply(200, body)
        elif self.path == "/healthz":
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

    def do_POST(self) -> None:
        state = self.server.state
        raw = self._body()
        if self.path == "/token":
            with state.lock:
                state.token_requests += 1
            if b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" not in raw:
                self._reply(400, {"error": "unsupported_grant_type"})
                return
            self._reply(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        elif self.path == "/_control/config":
            try:
                state.configure(json.loads(raw or b"{}"))
            except (ValueError, TypeError) as exc:
                self._reply(400, {"error": str(exc)})
                return
            self._reply(200, {"status": "ok"})
        elif self.path == "/_control/reset":
            state.reset()
            self._reply(200, {"status": "ok"})
        elif match := SEND_PATH.match(self.path):
            self._send(match["project"], raw)
        else:
            self._reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})

    def _send(self, project: str, raw: bytes) -> None:
        state = self.server.state
        if not self.server.authorised(self.headers.get("Authorization", "")):
            self._reply(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials.",
                        "status": "UNAUTHENTICATED",
                    }
                },
            )
            return
        try:
            message = json.loads(raw)["message"]
            token = message.get("token")
            if not (token or message.get("topic") or message.get("condition")):
                raise ValueError("message has no target")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._reply(
                400, {"error": {"code": 400, "message": f"Invalid JSON payload: {exc}", "status": "INVALID_ARGUMENT"}}
            )
            return
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            latency = state.latency_s
        try:
            if latency:
                time.sleep(latency)
            rule = state.matching_rule(token)
            with state.lock:
                if rule is None:
                    state.messages.append({"project": project, "message": message, "received_at": time.time()})
                    name = f"projects/{project}/messages/{len(state.messages)}"
                else:
                    state.refused.append(
                        {"project": project, "message": message, "error": rule["error"], "received_at": time.time()}
                    )
        finally:
            with state.lock:
                state.in_flight -= 1
        if rule is None:
            self._reply(200, {"name": name})
            return
        status, canonical = FCM_ERRORS[rule["error"]]
        headers = {"Retry-After": str(rule["retry_after"])} if rule.get("retry_after") is not None else None
        self._reply(
            status,
            {
                "error": {
                    "code": status,
                    "message": f"emulated {rule['error']}",
                    "status": canonical,
                    "details": [
                        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": rule["error"]}
                    ],
                }
            },
            headers,
        )


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], state: EmulatorState, service_account: str | None = None) -> None:
        super().__init__(address, Handler)
        self.state = state
        self._public_key = _public_key(service_account) if service_account else None

    def authorised(self, header: str) -> bool:
        """An access token from /token, or a JWT self-signed by the service account."""
        scheme, _, credential = header.partition(" ")
        if scheme != "Bearer" or not credential:
            return False
        if credential == ACCESS_TOKEN:
            return True
        if self._public_key is None:
            return credential.count(".") == 2
        return _verify_rs256(credential, self._public_key)


def _public_key(service_account: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    with open(service_account) as file:
        private_pem = json.load(file)["private_key"].encode()
    return load_pem_private_key(private_pem, password=None).public_key()


def _verify_rs256(jwt: str, public_key: Any) -> bool:
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    try:
        header, payload, signature = jwt.split(".")
        if json.loads(decode(header)).get("alg") != "RS256":
            return False
        claims = json.loads(decode(payload))
        public_key.verify(decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, InvalidSignature):
        return False
    return claims.get("exp", 0) > time.time()


def write_service_account(path: str, *, project: str, token_uri: str) -> None:
    """A service-account JSON with a fresh RSA key: the SDK signs real JWTs with it."""
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "fcm-emulator",
        "private_key": pem,
        "client_email": f"speedcam-alert@{project}.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": token_uri,
        # Not googleapis.com: google-auth then signs its own JWT bearer tokens instead of
        # calling token_uri, and skips its regional-access-boundary lookup, which would
        # otherwise call iamcredentials.googleapis.com from the workers.
        "universe_domain": "fcm-emulator.local",
    }
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump(account, file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9099)
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument("--service-account", help="verify JWT bearer tokens against this account's key")
    account = commands.add_parser("service-account", help="write a service-account JSON for the emulator")
    account.add_argument("--out", required=True)
    account.add_argument("--project", required=True)
    account.add_argument("--token-uri", required=True)
    args = parser.parse_args()
    if args.command == "service-account":
        write_service_account(args.out, project=args.project, token_uri=args.token_uri)
        return
    server = EmulatorServer((args.host, args.port), EmulatorState(args.latency_ms), args.service_account)
    print(f"FCM emulator on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
