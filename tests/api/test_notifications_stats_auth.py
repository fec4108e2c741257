"""/api/v1/notifications, /api/v1/stats, /api/v1/auth/token, the docs and /metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from backend.config.celery import app as celery_app
from backend.messaging.topology import declare_topology
from tests.factories import NotificationFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")


def test_notifications_list_filters_and_refuses_owners(operator_client: APIClient, owner_client: APIClient) -> None:
    NotificationFactory(detection_id=1, dedupe_key="violation:1", status="sent", sent_detection_id=1)
    NotificationFactory(detection_id=2, dedupe_key="violation:2", status="failed", error_message="skipped")
    body = operator_client.get("/api/v1/notifications/", {"status": "failed"}).json()
    assert [row["detection_id"] for row in body["results"]] == [2]
    assert operator_client.get("/api/v1/notifications/", {"status": "lost"}).status_code == 400
    assert owner_client.get("/api/v1/notifications/").status_code == 403


@pytest.fixture
def declared_topology(services) -> None:
    # The workers declare the queues when they start; on a fresh broker with none started yet
    # there is no dead-letter queue to count, and the figure is rightly null.
    with celery_app.connection_for_write() as connection:
        declare_topology(connection)


def test_stats_per_local_day_per_camera_and_pipeline(
    operator_client: APIClient,
    make_detection,
    declared_topology,
) -> None:
    # 2026-11-22 23:30 UTC is 2026-11-23 08:30 in Seoul.
    make_detection(detected_at=datetime(2026, 11, 22, 23, 30, tzinfo=UTC), camera_id="cam-01")
    make_detection(detected_at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC), camera_id="cam-02")
    make_detection(detected_at=datetime(2026, 11, 21, 5, 0, tzinfo=UTC), camera_id="cam-02", status="failed")
    make_detection(detected_at=datetime(2026, 11, 10, 5, 0, tzinfo=UTC), status="pending")  # outside the range
    NotificationFactory(detection_id=1, dedupe_key="violation:1", status="sent", sent_detection_id=1)
    body = operator_client.get("/api/v1/stats", {"date_from": "2026-11-21", "date_to": "2026-11-23"}).json()
    assert body["per_day"] == [{"date": "2026-11-21", "count": 1}, {"date": "2026-11-23", "count": 2}]
    assert body["per_camera"] == [{"camera_id": "cam-02", "count": 2}, {"camera_id": "cam-01", "count": 1}]
    assert body["pipeline"]["detections"] == {"pending": 1, "processing": 0, "completed": 2, "failed": 1}
    assert body["pipeline"]["notifications"] == {"pending": 0, "sent": 1, "failed": 0}
    assert isinstance(body["pipeline"]["dlq_depth"], int)


def test_stats_dlq_depth_is_null_where_the_broker_has_no_such_queue(operator_client: APIClient, services) -> None:
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_delete("dlq_queue")
        try:
            assert operator_client.get("/api/v1/stats").json()["pipeline"]["dlq_depth"] is None
        finally:
            declare_topology(connection)  # the workers of later tests dead-letter into it


def test_stats_range_is_validated(operator_client: APIClient) -> None:
    response = operator_client.get("/api/v1/stats", {"date_from": "2026-11-23", "date_to": "2026-11-01"})
    assert response.status_code == 400 and "date_from" in response.json()["error"]["fields"]
    assert operator_client.get("/api/v1/stats", {"date_from": "23/11/2026"}).status_code == 400


def test_create_api_token_prints_a_bearer_token_that_works() -> None:
    from io import StringIO

    out = StringIO()
    call_command("create_api_token", "script-bot", "--role", "operator", stdout=out)
    token = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/violations/").status_code == 200
    again = StringIO()
    call_command("create_api_token", "script-bot", "--role", "operator", stdout=again)
    assert again.getvalue().strip() == token  # idempotent unless --rotate


def test_password_login_gives_the_token_and_is_throttled() -> None:
    cache.clear()
    get_user_model().objects.create_user("alice", password="correct-horse")
    client = APIClient()
    ok = client.post("/api/v1/auth/token", {"username": "alice", "password": "correct-horse"}, format="json")
    assert ok.status_code == 200 and ok.json()["token"]
    bad = client.post("/api/v1/auth/token", {"username": "alice", "password": "wrong"}, format="json")
    assert bad.status_code == 400
    codes = [
        client.post("/api/v1/auth/token", {"username": "alice", "password": "wrong"}, format="json").status_code
        for _ in range(10)
    ]
    assert codes[-1] == 429


def test_swagger_redoc_and_schema_render_without_login() -> None:
    client = APIClient()
    schema = client.get("/swagger.json")
    assert schema.status_code == 200
    assert schema.json()["basePath"] == "/api/v1"
    paths = schema.json()["paths"]
    for path in (
        "/violations/",
        "/violations/{id}/",
        "/vehicles/",
        "/vehicles/{id}/fcm-token/",
        "/notifications/",
        "/stats",
        "/auth/token",
    ):
        assert path in paths, path
    parameters = {p["name"] for p in paths["/violations/"]["get"]["parameters"]}
    assert {"status", "plate", "plate_prefix", "min_overspeed", "has_notification", "cursor"} <= parameters
    assert "swagger-ui" in client.get("/swagger/").content.decode()
    assert "redoc" in client.get("/redoc/").content.decode().lower()


def test_metrics_need_a_token(operator_client: APIClient, owner_client: APIClient, settings) -> None:
    APIClient().get("/healthz")
    assert APIClient().get("/metrics").status_code == 401
    assert owner_client.get("/metrics").status_code == 401
    body = operator_client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in body
    settings.METRICS_TOKEN = "scraper-secret-token"
    scraper = APIClient()
    scraper.credentials(HTTP_AUTHORIZATION="Bearer scraper-secret-token")
    assert scraper.get("/metrics").status_code == 200
    scraper.credentials(HTTP_AUTHORIZATION="Bearer wrong-token")
    assert scraper.get("/metrics").status_code == 401


@pytest.mark.parametrize("num_proxies", [0, 1])
def test_the_login_throttle_cannot_be_dodged_with_x_forwarded_for(num_proxies: int, settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    cache.clear()
    client = APIClient()
    codes = []
    for attempt in range(12):
        # A client behind the proxy forges a fresh address each time; the proxy appends the real one.
        forwarded = f"10.9.{attempt}.1, 203.0.113.7" if num_proxies else f"10.9.{attempt}.1"
        response = client.post(
            "/api/v1/auth/token", {"username": "x", "password": "y"}, format="json", HTTP_X_FORWARDED_FOR=forwarded
        )
        codes.append(response.status_code)
    assert 429 in codes
