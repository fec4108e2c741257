from __future__ import annotations

from backend.vehicles.models import Vehicle


def register_vehicle(
    *, plate_number: str, owner_name: str = "", owner_phone: str = "", fcm_token: str | None = None
) -> Vehicle:
    vehicle = Vehicle(
        plate_number=plate_number.strip(),
        owner_name=owner_name or None,
        owner_phone=owner_phone or None,
        fcm_token=fcm_token or None,
    )
    vehicle.full_clean()
    vehicle.save()
    return vehicle
