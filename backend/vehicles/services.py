from __future__ import annotations

from backend.common.db import update_row_if
from backend.vehicles.models import Vehicle


def register_vehicle(
    *,
    plate_number: str,
    owner_name: str | None = "",
    owner_phone: str | None = "",
    fcm_token: str | None = None,
    owner_user_id: int | None = None,
) -> Vehicle:
    vehicle = Vehicle(
        plate_number=plate_number.strip(),
        owner_name=owner_name or None,
        owner_phone=owner_phone or None,
        fcm_token=fcm_token or None,
        owner_user_id=owner_user_id,
    )
    vehicle.full_clean()
    vehicle.save()
    return vehicle


def retire_fcm_token(*, vehicle_id: int, fcm_token: str) -> bool:
    """Clear a token FCM refuses for good. Only if it is still the vehicle's token: the
    owner's app may have registered a fresh one meanwhile. Returns whether it was cleared."""
    _, retired = update_row_if(Vehicle, vehicle_id, lambda vehicle: vehicle.fcm_token == fcm_token, fcm_token=None)
    return retired


def set_fcm_token(vehicle: Vehicle, fcm_token: str | None) -> None:
    vehicle.fcm_token = fcm_token
    vehicle.save(update_fields=["fcm_token", "updated_at"])
