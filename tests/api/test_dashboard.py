"""/dashboard/ for admins and operators, drawn from the same figures as /api/v1/stats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from backend.api.dashboard import PLOT_HEIGHT, PLOT_MARGIN, camera_plot
from backend.api.roles import Role, assign_role
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def _session(role: Role) -> Client:
    user = get_user_model().objects.create_user(f"dash-{role}", password="pw")
    assign_role(user, role)
    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_needs_a_staff_login() -> None:
    anonymous = Client().get("/dashboard/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    assert _session(Role.OWNER).get("/dashboard/").status_code == 403


def test_the_dashboard_and_stats_show_the_same_figures(make_detection: Callable, operator_client: APIClient) -> None:
    now = timezone.now()
    CameraFactory(
        camera_id="cam-01", mqtt_username="camera-cam-01", location="테헤란로", speed_limit=60,
        latitude=37.5, longitude=127.03, last_seen_at=now,
    )  # fmt: skip
    make_detection(detected_at=now - timedelta(hours=1), detected_speed=75.0)
    make_detection(detected_at=now - timedelta(hours=3), detected_speed=95.0, needs_review=True)
    page = _session(Role.OPERATOR).get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "chart.umd.min.js" in html and html.count("<canvas") == 7 and 'id="figures"' in html
    figures = page.context["figures"]
    stats = operator_client.get(
        "/api/v1/stats", {"date_from": figures["date_from"].isoformat(), "date_to": figures["date_to"].isoformat()}
    ).json()
    assert stats["per_day"] == figures["per_day"] and stats["overspeed"] == figures["overspeed"]
    assert sum(row["count"] for row in stats["per_hour"]) == 2
    assert stats["overspeed"] == [{"from_kmh": 10, "count": 1}, {"from_kmh": 30, "count": 1}]
    assert stats["reads"] == {"read": 1, "review": 1, "failed": 0, "waiting": 0}
    assert stats["cameras"][0]["camera_id"] == "cam-01" and stats["cameras"][0]["silent"] is False
    assert set(stats["pipeline"]["queues"]) >= {"ocr_queue", "fcm_queue", "dlq_queue"}


def test_cameras_are_placed_by_their_coordinates() -> None:
    cameras = [
        {"camera_id": "west", "latitude": 37.50, "longitude": 127.00, "silent": False},
        {"camera_id": "east", "latitude": 37.50, "longitude": 127.10, "silent": True},
        {"camera_id": "north", "latitude": 37.60, "longitude": 127.00, "silent": False},
        {"camera_id": "nowhere", "latitude": None, "longitude": None, "silent": False},
    ]
    placed = {camera["camera_id"]: camera for camera in camera_plot(cameras)}
    assert set(placed) == {"west", "east", "north"}
    assert placed["west"]["x"] < placed["east"]["x"] and placed["west"]["y"] == placed["east"]["y"]
    assert placed["north"]["y"] < placed["west"]["y"] == PLOT_HEIGHT - PLOT_MARGIN  # north is up
