"""update_row_if against the real MariaDB: the condition is read under the row's lock."""

from __future__ import annotations

import pytest

from backend.common.db import update_row_if
from backend.vehicles.models import Vehicle
from tests.factories import VehicleFactory
from tests.support.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_updates_the_row_when_the_condition_holds() -> None:
    vehicle = VehicleFactory(fcm_token="old")
    row, updated = update_row_if(Vehicle, vehicle.pk, lambda current: current.fcm_token == "old", fcm_token="new")
    assert updated and row is not None and row.fcm_token == "new"
    assert Vehicle.objects.get(pk=vehicle.pk).fcm_token == "new"


def test_leaves_the_row_when_the_condition_fails_and_returns_it_as_stored() -> None:
    vehicle = VehicleFactory(fcm_token="current")
    row, updated = update_row_if(Vehicle, vehicle.pk, lambda current: current.fcm_token == "old", fcm_token=None)
    assert not updated and row is not None and row.fcm_token == "current"
    assert Vehicle.objects.get(pk=vehicle.pk).fcm_token == "current"


def test_a_missing_row_is_none() -> None:
    assert update_row_if(Vehicle, 10**9, lambda current: True, fcm_token=None) == (None, False)


def test_racing_conditional_updates_decide_one_at_a_time() -> None:
    """Eight writers each clear the token if it is still set. The condition is read under
    the row's lock, so exactly one clears it and the other seven see it cleared (read
    without the lock, several would find it set and all report a clear)."""
    vehicle = VehicleFactory(fcm_token="0")

    def clear_token() -> bool:
        _, updated = update_row_if(Vehicle, vehicle.pk, lambda current: current.fcm_token is not None, fcm_token=None)
        return updated

    assert sorted(at_once(clear_token)) == [False] * 7 + [True]
