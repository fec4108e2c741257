"""The worker roles' endpoint: /ready follows whether the process consumes; metrics stay served."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from backend.common import role_endpoint
from harness.processes import http_status
from harness.services import free_port


@pytest.fixture
def endpoint() -> Iterator[str]:
    port = free_port()
    role_endpoint.serve(port, "127.0.0.1")
    yield f"http://127.0.0.1:{port}"
    role_endpoint.mark_consuming(False)


def test_ready_answers_200_only_while_the_role_consumes(endpoint: str) -> None:
    role_endpoint.mark_consuming(False)
    assert http_status(f"{endpoint}/ready") == 503
    role_endpoint.mark_consuming(True)
    assert http_status(f"{endpoint}/ready") == 200
    role_endpoint.mark_consuming(False)  # disconnected, or shutting down
    assert http_status(f"{endpoint}/ready") == 503


def test_metrics_are_served_beside_it_with_the_same_state(endpoint: str) -> None:
    role_endpoint.mark_consuming(True)
    text = urllib.request.urlopen(f"{endpoint}/metrics", timeout=5).read().decode()
    assert "speedcam_consuming 1.0" in text
