"""/api/v1/vehicles: admins manage, operators read masked, owners see and change only their own."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from backend.vehicles.models import Vehicle
from tests.factories import VehicleFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")
URL = "/api/v1/vehicles/"


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


def test_admin_registers_updates_and_deletes(admin_client: APIClient) -> None:
    created = admin_client.post(
        URL, {"plate_number": "123다4567", "owner_name": "이철수", "owner_phone": "010-3456-7890"}, format="json"
    )
    assert created.status_code == 201, created.content
    vehicle_id = created.json()["id"]
    assert Vehicle.objects.get(pk=vehicle_id).owner_name == "이철수"
    assert admin_client.patch(f"{URL}{vehicle_id}/", {"owner_name": "이영수"}, format="json").status_code == 200
    assert admin_client.delete(f"{URL}{vehicle_id}/").status_code == 204
    assert not Vehicle.objects.filter(pk=vehicle_id).exists()


def test_duplicate_plate_is_a_conflict_naming_the_field(admin_client: APIClient) -> None:
    VehicleFactory(plate_number="12가3456")
    response = admin_client.post(URL, {"plate_number": "12가3456"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict" and "plate_number" in response.json()["error"]["fields"]


def test_operator_reads_masked_and_cannot_write(operator_client: APIClient, owners_vehicle: Vehicle) -> None:
    [row] = operator_client.get(URL).json()["results"]
    assert row["owner_phone"] == "010-****-5678" and row["fcm_token"] == "fcm-…ijkl"
    assert row["owner_name"] != owners_vehicle.owner_name and row["owner_name"].count("*") >= 1
    assert operator_client.post(URL, {"plate_number": "34나5678"}, format="json").status_code == 403
    assert operator_client.delete(f"{URL}{owners_vehicle.pk}/").status_code == 403


def test_search_by_plate_prefix(operator_client: APIClient) -> None:
    VehicleFactory(plate_number="12가3456")
    VehicleFactory(plate_number="34나5678")
    assert [row["plate_number"] for row in operator_client.get(URL, {"search": "34"}).json()["results"]] == ["34나5678"]


def test_owner_manages_the_fcm_token_of_their_own_vehicle_only(
    owner_client: APIClient, owners_vehicle: Vehicle
) -> None:
    other = VehicleFactory(plate_number="99허9999", fcm_token="someone-elses-token-123456")
    assert [row["id"] for row in owner_client.get(URL).json()["results"]] == [owners_vehicle.pk]
    url = f"{URL}{owners_vehicle.pk}/fcm-token/"
    assert owner_client.put(url, {"fcm_token": "fresh-token-from-the-app-0001"}, format="json").status_code == 204
    assert Vehicle.objects.get(pk=owners_vehicle.pk).fcm_token == "fresh-token-from-the-app-0001"
    assert owner_client.delete(url).status_code == 204
    assert Vehicle.objects.get(pk=owners_vehicle.pk).fcm_token is None
    assert owner_client.put(f"{URL}{other.pk}/fcm-token/", {"fcm_token": "x" * 30}, format="json").status_code == 404
    assert Vehicle.objects.get(pk=other.pk).fcm_token == "someone-elses-token-123456"
    assert owner_client.patch(f"{URL}{owners_vehicle.pk}/", {"owner_name": "x"}, format="json").status_code == 403


def test_bad_token_is_400(owner_client: APIClient, owners_vehicle: Vehicle) -> None:
    response = owner_client.put(f"{URL}{owners_vehicle.pk}/fcm-token/", {"fcm_token": "short"}, format="json")
    assert response.status_code == 400 and "fcm_token" in response.json()["error"]["fields"]


def test_operator_may_not_change_tokens(operator_client: APIClient, owners_vehicle: Vehicle) -> None:
    url = f"{URL}{owners_vehicle.pk}/fcm-token/"
    assert operator_client.put(url, {"fcm_token": "x" * 30}, format="json").status_code == 403


def test_token_registration_is_throttled(owner_client: APIClient, owners_vehicle: Vehicle, settings) -> None:
    url = f"{URL}{owners_vehicle.pk}/fcm-token/"
    codes = [owner_client.put(url, {"fcm_token": f"token-{i:030d}"}, format="json").status_code for i in range(32)]
    assert codes[:30] == [204] * 30 and codes[-1] == 429
