"""Schema details on the real MariaDB: utf8mb4, Korean text, indexes, uniqueness rules."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connections, transaction

from backend.detections.models import Detection
from backend.vehicles.models import Vehicle
from tests.factories import PendingDetectionFactory, VehicleFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")


def _detection(**overrides: object) -> Detection:
    return PendingDetectionFactory(
        **{"event_id": "00000000-0000-4000-8000-000000000001", "location": "부산광역시 해운대구 😀", **overrides}
    )


def test_korean_and_four_byte_text_round_trip() -> None:
    VehicleFactory(plate_number="123다4567", owner_name="홍길동")
    assert Vehicle.objects.get(plate_number="123다4567").owner_name == "홍길동"
    detection = _detection()
    assert Detection.objects.get(pk=detection.pk).location == "부산광역시 해운대구 😀"


@pytest.mark.parametrize(
    ("alias", "table"),
    [("vehicles_db", "vehicles"), ("detections_db", "detections"), ("notifications_db", "notifications")],
)
def test_tables_are_utf8mb4(alias: str, table: str) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [table],
        )
        assert cursor.fetchone()[0].startswith("utf8mb4")


def test_reference_indexes_exist() -> None:
    with connections["detections_db"].cursor() as cursor:
        constraints = connections["detections_db"].introspection.get_constraints(cursor, "detections")
    by_columns = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
    for columns in [
        ("vehicle_id",),
        ("detected_at",),
        ("status", "created_at"),
        ("camera_id", "detected_at"),
        ("event_id",),
    ]:
        assert columns in by_columns
    with connections["notifications_db"].cursor() as cursor:
        constraints = connections["notifications_db"].introspection.get_constraints(cursor, "notifications")
    by_columns = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
    for columns in [("detection_id",), ("status", "retry_count"), ("sent_at",)]:
        assert columns in by_columns


def test_event_id_is_unique() -> None:
    _detection()
    with pytest.raises(IntegrityError), transaction.atomic(using="detections_db"):
        _detection()


def test_unknown_status_is_refused_by_the_database() -> None:
    detection = _detection()
    with pytest.raises(IntegrityError), transaction.atomic(using="detections_db"):
        Detection.objects.filter(pk=detection.pk).update(status="lost")
