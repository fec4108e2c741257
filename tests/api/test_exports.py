"""Violations out (API ?format=csv|xlsx, admin export action) and vehicles in (admin import
with a preview that names every bad row)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from backend.api import exports
from backend.detections.resources import ViolationResource
from backend.vehicles.models import Vehicle
from backend.vehicles.resources import VehicleResource
from tests.factories import VehicleFactory

pytestmark = pytest.mark.django_db(databases="__all__")
URL = "/api/v1/violations/"


@pytest.fixture
def three(make_detection: Callable) -> list:
    return [
        make_detection(camera_id="cam-01", detected_speed=82.7, measured_speed=88.61),
        make_detection(camera_id="cam-01", detected_speed=71.0),
        make_detection(camera_id="cam-02", detected_speed=99.0),
    ]


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # so Excel reads the Hangul as UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_streams_every_row_the_filters_select(operator_client: APIClient, three: list) -> None:
    response = operator_client.get(URL, {"format": "csv", "camera_id": "cam-01"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="violations-')
    rows = _csv_rows(response)  # newest first; the fixture's detections share one time: by id
    assert [int(row["id"]) for row in rows] == [three[1].pk, three[0].pk]
    first = rows[1]
    assert first["overspeed_kmh"] == "22.7" and first["measured_speed_kmh"] == "88.6"
    assert first["location"] == "서울 강남구 테헤란로 123" and first["plate"] == "12가3456"


def test_csv_export_crosses_batches(operator_client: APIClient, make_detection: Callable, monkeypatch) -> None:
    monkeypatch.setattr(exports, "BATCH", 2)
    made = [make_detection() for _ in range(5)]
    rows = _csv_rows(operator_client.get(URL, {"format": "csv"}))
    assert sorted(int(row["id"]) for row in rows) == sorted(detection.pk for detection in made)


def test_xlsx_export(operator_client: APIClient, three: list) -> None:
    response = operator_client.get(URL, {"format": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"] == exports.ViolationXLSXRenderer.media_type
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][0] == "id" and len(values) == 1 + 3
    assert {row[3] for row in values[1:]} == {"cam-01", "cam-02"}


def test_owners_cannot_export_and_errors_stay_json(owner_client: APIClient, operator_client: APIClient) -> None:
    refused = owner_client.get(URL, {"format": "csv"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    invalid = operator_client.get(URL, {"format": "csv", "min_overspeed": "-3"})
    assert invalid.status_code == 400 and "min_overspeed" in invalid.json()["error"]["fields"]


def test_the_admin_export_has_the_same_columns(three: list) -> None:
    dataset = ViolationResource().export(queryset=type(three[0]).objects.filter(pk=three[0].pk))
    assert dataset.headers[:3] == ["id", "event_id", "detected_at"]
    assert dataset.dict[0]["overspeed_kmh"] == 22.7


def _dataset(*rows: tuple[str, str, str]) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=["plate_number", "owner_name", "owner_phone"])


def test_vehicle_import_names_the_bad_row_and_stores_the_good_ones() -> None:
    rows = (("12가3456", "홍길동", "010-1234-5678"), ("not-a-plate", "김영희", ""), ("34나5678", "이철수", ""))
    preview = VehicleResource().import_data(_dataset(*rows), dry_run=True)
    assert not Vehicle.objects.exists()  # a preview stores nothing
    result = VehicleResource().import_data(_dataset(*rows), dry_run=False)
    assert not result.has_errors() and result.totals["new"] == 2
    for outcome in (preview, result):
        [rejected] = outcome.invalid_rows
        assert rejected.number == 2 and "'not-a-plate'은(는) 한국 번호판이 아닙니다" in str(rejected.error_dict)
    assert set(Vehicle.objects.values_list("plate_number", flat=True)) == {"12가3456", "34나5678"}


def test_vehicle_import_stores_a_good_file_and_updates_by_plate() -> None:
    VehicleFactory(plate_number="12가3456", owner_name="옛 주인")
    result = VehicleResource().import_data(
        _dataset(("12 가 3456", "홍길동", "010-1234-5678"), ("34나5678", "이철수", "")), dry_run=False
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["update"] == 1 and result.totals["new"] == 1
    assert Vehicle.objects.get(plate_number="12가3456").owner_name == "홍길동"
    again = VehicleResource().import_data(_dataset(("34나5678", "이철수", "")), dry_run=False)
    assert again.totals["skip"] == 1


def test_the_admin_import_previews_the_bad_row_then_stores_the_others() -> None:
    get_user_model().objects.create_superuser("importer", password="pw")
    browser = Client()
    browser.login(username="importer", password="pw")
    upload = io.BytesIO("plate_number,owner_name,owner_phone\n12가3456,홍길동,\n???,김영희,\n".encode())
    upload.name = "vehicles.csv"
    page = browser.post(
        "/admin/vehicles/vehicle/import/",
        {"resource": 0, "format": 0, "import_file": upload},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "1 row will be left out" in text and "&#x27;???&#x27; is not a Korean plate" in text
    assert not Vehicle.objects.exists()
    confirm = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', text))
    assert {"import_file_name", "original_file_name", "format", "resource"} <= set(confirm)
    done = browser.post("/admin/vehicles/vehicle/process_import/", confirm, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert list(Vehicle.objects.values_list("plate_number", flat=True)) == ["12가3456"]
    assert "1 row was left out (line 2)" in done.content.decode()
