"""Four databases on the real MariaDB: routing, isolation, migrations."""

from __future__ import annotations

import pytest
from django.db import connections, router

from backend.config.db_router import AppLabelRouter
from backend.detections.models import Detection
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle
from tests.factories import PendingDetectionFactory, VehicleFactory

# Rolled back after each test: no other process needs to see these rows.
pytestmark = pytest.mark.django_db(databases="__all__")

OWNED_TABLES = {
    "vehicles_db": "vehicles",
    "detections_db": "detections",
    "notifications_db": "notifications",
}


def _tables(alias: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        return set(connections[alias].introspection.table_names(cursor))


def test_models_route_to_their_own_database() -> None:
    assert router.db_for_write(Vehicle) == "vehicles_db"
    assert router.db_for_read(Detection) == "detections_db"
    assert router.db_for_write(Notification) == "notifications_db"
    from django.contrib.auth.models import User

    assert router.db_for_write(User) == "default"


def test_every_connection_reads_committed_in_strict_mode_and_utc() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT @@SESSION.tx_isolation, @@SESSION.sql_mode, @@SESSION.time_zone")
            isolation, sql_mode, time_zone = cursor.fetchone()
        assert (isolation, time_zone) == ("READ-COMMITTED", "+00:00"), alias
        assert "STRICT_TRANS_TABLES" in sql_mode, alias


def test_each_table_exists_only_in_its_database() -> None:
    for alias, table in OWNED_TABLES.items():
        assert table in _tables(alias)
        for other in set(connections) - {alias}:
            assert table not in _tables(other), f"{table} leaked into {other}"
    assert "auth_user" in _tables("default")
    assert "django_celery_results_taskresult" in _tables("default")
    for alias in OWNED_TABLES:
        assert "auth_user" not in _tables(alias)


def test_migrations_are_allowed_only_on_the_owning_alias() -> None:
    app_router = AppLabelRouter()
    assert app_router.allow_migrate("detections_db", "detections")
    assert not app_router.allow_migrate("default", "detections")
    assert not app_router.allow_migrate("vehicles_db", "auth")
    assert app_router.allow_migrate("default", "django_celery_results")


def test_cross_database_relations_are_refused() -> None:
    vehicle = VehicleFactory(plate_number="12가3456")
    detection = PendingDetectionFactory()
    assert router.allow_relation(vehicle, detection) is False
    assert router.allow_relation(vehicle, Vehicle(plate_number="x")) is True


def test_writes_land_in_the_routed_database() -> None:
    vehicle = VehicleFactory(plate_number="34나5678")
    with connections["vehicles_db"].cursor() as cursor:
        cursor.execute("SELECT plate_number FROM vehicles WHERE id = %s", [vehicle.pk])
        assert cursor.fetchone() == ("34나5678",)
