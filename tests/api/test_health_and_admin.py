"""The main role's HTTP faces on the real databases and broker."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import PendingDetectionFactory, VehicleFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")


def test_healthz_answers_without_touching_anything(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_every_database_and_the_broker(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "default": "ok",
        "vehicles_db": "ok",
        "detections_db": "ok",
        "notifications_db": "ok",
        "broker": "ok",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/admin/vehicles/vehicle/",
        "/admin/detections/detection/",
        "/admin/notifications/notification/",
        "/admin/django_celery_results/taskresult/",
    ],
)
def test_admin_lists_render_from_their_own_database(client: Client, path: str) -> None:
    get_user_model().objects.create_superuser("root", password="pw")
    VehicleFactory(plate_number="12가3456", owner_name="홍길동")
    PendingDetectionFactory(detected_speed=90, speed_limit=60, ocr_result="12가3456")
    client.login(username="root", password="pw")
    response = client.get(path)
    assert response.status_code == 200
    if "vehicle" in path or "detection" in path:
        assert "12가3456" in response.content.decode()


def test_anonymous_admin_is_redirected_to_login(client: Client) -> None:
    response = client.get("/admin/detections/detection/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_detection_page_links_its_trace_and_says_when_it_was_sampled_out(client: Client, settings) -> None:
    from django.utils.translation import gettext

    settings.TRACE_URL_TEMPLATE = "https://jaeger.example/trace/{trace_id}"
    get_user_model().objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    kept_id, dropped_id = "0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"
    kept = PendingDetectionFactory(traceparent=f"00-{kept_id}-b7ad6b7169203331-01")
    dropped = PendingDetectionFactory(traceparent=f"00-{dropped_id}-00f067aa0ba902b7-00")
    sampled_out = gettext("sampled out: only its failure, review or dead letter is traced")

    page = client.get(f"/admin/detections/detection/{kept.pk}/change/").content.decode()
    assert f'href="https://jaeger.example/trace/{kept_id}"' in page and sampled_out not in page
    page = client.get(f"/admin/detections/detection/{dropped.pk}/change/").content.decode()
    assert f'href="https://jaeger.example/trace/{dropped_id}"' in page and sampled_out in page
    assert 'name="traceparent"' not in page  # shown as the trace, never an editable field


def test_a_detection_is_only_viewed_in_the_admin_never_added_edited_or_deleted(client: Client) -> None:
    get_user_model().objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    detection = PendingDetectionFactory(ocr_result="12가3456", vehicle_id=7)
    url = f"/admin/detections/detection/{detection.pk}/change/"

    page = client.get(url).content.decode()
    for field in ("vehicle_id", "status", "needs_review", "review_reason", "error_message", "processed_at"):
        assert f'name="{field}"' not in page, field
    assert "12가3456" in page  # shown, as text

    client.post(url, {"vehicle_id": "8", "status": "completed", "needs_review": "on"})
    detection.refresh_from_db()
    assert (detection.vehicle_id, detection.status) == (7, "pending")
    assert client.get("/admin/detections/detection/add/").status_code == 403
    assert client.get(f"/admin/detections/detection/{detection.pk}/delete/").status_code == 403


def test_a_notification_is_the_record_of_a_push_never_edited_in_the_admin(client: Client) -> None:
    from backend.notifications.models import Notification

    get_user_model().objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    sent = Notification.objects.create(
        detection_id=41,
        sent_detection_id=41,
        dedupe_key="violation:41",
        status="sent",
        fcm_token="fcm-token-of-the-owner-0123456789",
    )
    url = f"/admin/notifications/notification/{sent.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="status"' not in page and 'name="fcm_token"' not in page

    client.post(url, {"status": "failed", "fcm_token": "fcm-token-of-somebody-else-0123456789"})
    sent.refresh_from_db()
    assert (sent.status, sent.fcm_token) == ("sent", "fcm-token-of-the-owner-0123456789")
    assert client.get("/admin/notifications/notification/add/").status_code == 403
    assert client.get(f"/admin/notifications/notification/{sent.pk}/delete/").status_code == 403


def test_staff_who_may_only_view_get_no_actions(client: Client) -> None:
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_detection", "view_notification"]),
    )
    client.login(username="viewer", password="pw")
    detections = client.get("/admin/detections/detection/").content.decode()
    notifications = client.get("/admin/notifications/notification/").content.decode()
    for action in ("rerun_ocr", "approve_review"):
        assert f'value="{action}"' not in detections
    for action in ("resend", "resend_even_if_delivery_unknown"):
        assert f'value="{action}"' not in notifications
