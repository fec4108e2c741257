from __future__ import annotations

from django.db.models import Q

from backend.vehicles.models import Vehicle


def vehicle_by_plate(plate_number: str) -> Vehicle | None:
    return Vehicle.objects.filter(plate_number=plate_number).first()


def vehicle_by_id(vehicle_id: int) -> Vehicle | None:
    try:
        return Vehicle.objects.get(pk=vehicle_id)  # get(): no ORDER BY to compile, as first() adds
    except Vehicle.DoesNotExist:
        return None


def vehicles_by_ids(vehicle_ids: set[int]) -> dict[int, Vehicle]:
    """One query for a page of detections (the application-side join across databases)."""
    return Vehicle.objects.in_bulk(list(vehicle_ids)) if vehicle_ids else {}


def vehicle_ids_of_owner(user_id: int) -> list[int]:
    return list(Vehicle.objects.filter(owner_user_id=user_id).values_list("id", flat=True))


def vehicles_with_similar_plates(plate: str, limit: int = 50) -> list[Vehicle]:
    """Candidates for a fuzzy plate match: a plate one edit away keeps either its last four
    digits or everything before them."""
    front, last4 = plate[:-4], plate[-4:]
    return list(
        Vehicle.objects.filter(Q(plate_number__endswith=last4) | Q(plate_number__startswith=front))
        .exclude(plate_number=plate)
        .order_by("pk")[:limit]
    )
