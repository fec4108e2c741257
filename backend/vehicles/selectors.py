from __future__ import annotations

from backend.vehicles.models import Vehicle


def vehicle_by_plate(plate_number: str) -> Vehicle | None:
    return Vehicle.objects.filter(plate_number=plate_number).first()


def vehicle_by_id(vehicle_id: int) -> Vehicle | None:
    return Vehicle.objects.filter(pk=vehicle_id).first()
