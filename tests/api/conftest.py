from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from backend.detections.models import Detection
from backend.vehicles.models import Vehicle
from tests.factories import DetectionFactory, VehicleFactory


def _client_for(username: str, role: str) -> APIClient:
    from io import StringIO

    out = StringIO()
    call_command("create_api_token", username, "--role", role, stdout=out)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    client.user = get_user_model().objects.get(username=username)
    return client


@pytest.fixture
def admin_client() -> APIClient:
    return _client_for("api-admin", "admin")


@pytest.fixture
def operator_client() -> APIClient:
    return _client_for("api-operator", "operator")


@pytest.fixture
def owner_client() -> APIClient:
    return _client_for("api-owner", "owner")


@pytest.fixture
def make_detection() -> Callable[..., Detection]:
    def make(**fields: object) -> Detection:
        defaults = {
            "camera_id": "cam-01",
            "location": "서울 강남구 테헤란로 123",
            "detected_speed": 90.0,
            "speed_limit": 60.0,
            "image_gcs_uri": "gs://speedcam-test-images/x.jpg",
            "detected_at": datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        }
        return DetectionFactory(**{**defaults, **fields})

    return make


@pytest.fixture
def owners_vehicle(owner_client: APIClient) -> Vehicle:
    return VehicleFactory(
        plate_number="12가3456",
        owner_name="홍길동",
        owner_phone="010-1234-5678",
        fcm_token="fcm-token-of-hong-abcdefghijkl",
        owner_user_id=owner_client.user.pk,
    )
