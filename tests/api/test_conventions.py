"""What holds for the whole API: every list paged and documented as paged, every endpoint
throttled, one error body, speeds to 0.1 km/h, and the committed OpenAPI document current."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import get_resolver
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from harness.services import REPO_ROOT
from tests.factories import VehicleFactory

pytestmark = pytest.mark.django_db(databases="__all__")
LISTS = ["/api/v1/violations/", "/api/v1/vehicles/", "/api/v1/notifications/"]


def _api_views() -> list[type[APIView]]:
    views = []

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif (prefix + str(pattern.pattern)).startswith("api/v1/"):
                view = getattr(pattern.callback, "cls", None)
                if view is not None:
                    views.append(view)

    walk(get_resolver().url_patterns, "")
    return views


@pytest.mark.parametrize("url", LISTS)
def test_every_list_is_paged_by_a_cursor(url: str, admin_client: APIClient, make_detection: Callable) -> None:
    for index in range(3):
        make_detection(event_id=f"00000000-0000-4000-8000-00000000000{index}")
        VehicleFactory(plate_number=f"1{index}가3456")
    first = admin_client.get(url, {"page_size": 1}).json()
    assert set(first) == {"next", "previous", "results"} and len(first["results"]) <= 1
    big = admin_client.get(url, {"page_size": 100_000}).json()
    assert len(big["results"]) <= 500


def test_every_list_is_documented_as_paged() -> None:
    schema = json.loads((REPO_ROOT / "docs/api/swagger.json").read_text())
    for url in LISTS:
        operation = schema["paths"][url.removeprefix("/api/v1")]["get"]
        assert {"cursor", "page_size"} <= {parameter["name"] for parameter in operation["parameters"]}
        assert {"next", "previous", "results"} <= set(operation["responses"]["200"]["schema"]["properties"])


def test_every_endpoint_is_throttled() -> None:
    views = _api_views()
    assert len(views) >= 5
    for view in views:
        throttles = set(view.throttle_classes)
        assert throttles & {UserRateThrottle, AnonRateThrottle, ScopedRateThrottle}, view.__name__


def test_errors_have_one_body(operator_client: APIClient) -> None:
    unauthenticated = APIClient().get("/api/v1/violations/").json()
    assert unauthenticated["error"]["code"] == "not_authenticated" and unauthenticated["error"]["status"] == 401
    missing = operator_client.get("/api/v1/violations/999999/").json()
    assert missing["error"]["code"] == "not_found"
    invalid = operator_client.get("/api/v1/violations/", {"min_overspeed": "-3"}).json()["error"]
    assert invalid["code"] == "invalid" and "min_overspeed" in invalid["fields"]


def test_a_service_validation_error_is_a_400_or_a_409_not_a_500() -> None:
    from django.core.exceptions import ValidationError

    from backend.api.exceptions import api_exception_handler

    invalid = api_exception_handler(ValidationError({"owner_phone": ["not a phone number"]}), {})
    assert invalid.status_code == 400
    assert invalid.data["error"]["fields"] == {"owner_phone": ["not a phone number"]}
    duplicate = api_exception_handler(ValidationError({"plate_number": [ValidationError("exists", code="unique")]}), {})
    assert duplicate.status_code == 409 and duplicate.data["error"]["code"] == "conflict"


def test_speeds_are_shown_to_a_tenth(operator_client: APIClient, make_detection: Callable) -> None:
    detection = make_detection(detected_speed=82.7, speed_limit=60.0, measured_speed=88.61234)
    row = operator_client.get(f"/api/v1/violations/{detection.pk}/").json()
    assert row["overspeed"] == 22.7 and row["measured_speed"] == 88.6 and row["detected_speed"] == 82.7


def test_the_committed_openapi_document_is_current(tmp_path: Path) -> None:
    generated = tmp_path / "swagger.json"
    try:
        call_command("generate_swagger", str(generated), format="json", overwrite=True)
    finally:
        logging.disable(logging.NOTSET)  # drf_yasg's command turns logging off for the whole process
    committed = json.loads((REPO_ROOT / "docs/api/swagger.json").read_text())
    assert json.loads(generated.read_text()) == committed, (
        "docs/api/swagger.json is stale: python manage.py generate_swagger docs/api/swagger.json --format json "
        "--overwrite"
    )
    stats = committed["paths"]["/stats"]["get"]["responses"]
    assert stats["200"]["schema"]["$ref"] == "#/definitions/StatsResponse" and "400" in stats
    assert {"per_day", "per_camera", "pipeline"} <= set(committed["definitions"]["StatsResponse"]["properties"])
    token = committed["paths"]["/auth/token"]["post"]["responses"]["200"]["schema"]["$ref"]
    assert "token" in committed["definitions"][token.rsplit("/", 1)[1]]["properties"]
