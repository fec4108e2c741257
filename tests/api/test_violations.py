"""/api/v1/violations on real MariaDB: filters, ordering, pagination, detail, roles."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from backend.vehicles.models import Vehicle
from edge.sample import render_snapshot
from tests.factories import NotificationFactory, VehicleFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")
URL = "/api/v1/violations/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_anonymous_and_roleless_users_are_refused(make_detection) -> None:
    make_detection()
    assert APIClient().get(URL).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert client.get(URL).status_code == 401


def test_list_is_newest_first_with_cursor_pages(operator_client: APIClient, make_detection) -> None:
    created = [make_detection(detected_at=datetime(2026, 11, 23, 1, minute, tzinfo=UTC)) for minute in range(5)]
    first = operator_client.get(URL, {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == [created[4].pk, created[3].pk]
    second = operator_client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [created[2].pk, created[1].pk]
    assert first["results"][0]["plate"] == "12가3456" and first["results"][0]["overspeed"] == 30.0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "failed"}, {"failed"}),
        ({"camera_id": "cam-09"}, {"cam9"}),
        ({"plate": "34나5678"}, {"plate34"}),
        ({"plate_prefix": "34나"}, {"plate34", "plate345"}),
        ({"min_overspeed": 50}, {"fast"}),
        ({"needs_review": "true"}, {"review"}),
        ({"detected_from": "2026-11-20T00:00:00+09:00", "detected_to": "2026-11-21T00:00:00+09:00"}, {"old"}),
    ],
)
def test_each_filter_narrows_the_list(
    operator_client: APIClient,
    make_detection,
    params: dict,
    expected: set[str],
) -> None:
    rows = {
        "base": make_detection(),
        "failed": make_detection(status="failed", ocr_result=None),
        "cam9": make_detection(camera_id="cam-09"),
        "plate34": make_detection(ocr_result="34나5678"),
        "plate345": make_detection(ocr_result="34나5679"),
        "fast": make_detection(detected_speed=115.0),
        "review": make_detection(needs_review=True, ocr_result=None),
        "old": make_detection(detected_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC)),
    }
    ids = set(_ids(operator_client.get(URL, params)))
    assert ids == {rows[name].pk for name in expected}


def test_vehicle_and_notification_filters(operator_client: APIClient, make_detection) -> None:
    vehicle = VehicleFactory(plate_number="56라7890")
    matched = make_detection(vehicle_id=vehicle.pk, ocr_result="56라7890")
    notified = make_detection()
    NotificationFactory(detection_id=notified.pk, status="failed")
    assert _ids(operator_client.get(URL, {"vehicle_id": vehicle.pk})) == [matched.pk]
    assert _ids(operator_client.get(URL, {"has_notification": "true"})) == [notified.pk]
    assert notified.pk not in _ids(operator_client.get(URL, {"has_notification": "false"}))


def test_ordering_by_speed(operator_client: APIClient, make_detection) -> None:
    slow, fast = make_detection(detected_speed=70.0), make_detection(detected_speed=120.0)
    assert _ids(operator_client.get(URL, {"ordering": "-detected_speed"}))[:2] == [fast.pk, slow.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"detected_from": "yesterday"}, "detected_from"),
        ({"min_overspeed": "-3"}, "min_overspeed"),
        ({"vehicle_id": "abc"}, "vehicle_id"),
    ],
)
def test_bad_filters_are_400_with_the_field(operator_client: APIClient, params: dict, field: str) -> None:
    response = operator_client.get(URL, params)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_detail_joins_vehicle_and_notifications_and_masks_for_operators(
    operator_client: APIClient,
    admin_client: APIClient,
    make_detection,
    services,
) -> None:
    image = render_snapshot("12가3456", width=320, height=180)
    uri = services.upload(image)
    vehicle = VehicleFactory(
        plate_number="12가3456",
        owner_name="홍길동",
        owner_phone="010-1234-5678",
        fcm_token="fcm-token-abcdefghijklmnop",
    )
    detection = make_detection(vehicle_id=vehicle.pk, image_gcs_uri=uri, image_sha256=hashlib.sha256(image).hexdigest())
    NotificationFactory(
        detection_id=detection.pk,
        status="sent",
        sent_detection_id=detection.pk,
        title="[과속 단속] 속도위반 알림",
    )

    body = operator_client.get(f"{URL}{detection.pk}/").json()
    assert body["vehicle"]["plate_number"] == "12가3456"
    assert body["vehicle"]["owner_phone"] == "010-****-5678"
    assert body["vehicle"]["owner_name"] == "홍*동"
    assert body["vehicle"]["fcm_token"] == "fcm-…mnop"
    assert [n["status"] for n in body["notifications"]] == ["sent"]
    assert admin_client.get(f"{URL}{detection.pk}/").json()["vehicle"]["owner_phone"] == "010-1234-5678"

    image_response = APIClient().get(body["image_url"])  # the signed link is the credential
    assert image_response.status_code == 200 and image_response.content == image
    forged = body["image_url"].replace("signature=", "signature=x")
    assert APIClient().get(forged).status_code == 404


def test_the_signed_image_route_exists_only_with_the_emulator(
    admin_client: APIClient, make_detection, settings
) -> None:
    from django.core import signing

    detection = make_detection()
    signature = signing.TimestampSigner(salt="speedcam.evidence").sign(str(detection.pk))
    settings.STORAGE_EMULATOR_HOST = ""
    response = APIClient().get(f"{URL}{detection.pk}/image/", {"signature": signature})
    assert response.status_code == 404


def test_unknown_id_is_404(operator_client: APIClient) -> None:
    assert operator_client.get(f"{URL}999999/").status_code == 404


def test_owners_see_only_their_own_vehicles_violations(
    owner_client: APIClient, owners_vehicle: Vehicle, make_detection
) -> None:
    own = make_detection(vehicle_id=owners_vehicle.pk)
    other = make_detection(vehicle_id=VehicleFactory(plate_number="99허9999").pk, ocr_result="99허9999")
    assert _ids(owner_client.get(URL)) == [own.pk]
    assert owner_client.get(f"{URL}{other.pk}/").status_code == 404
    assert owner_client.get(f"{URL}{own.pk}/").json()["vehicle"]["owner_phone"] == "010-1234-5678"
