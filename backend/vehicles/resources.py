"""Vehicles in and out of the admin as CSV or XLSX (django-import-export).

An import is previewed first, row by row. A row whose plate is not a Korean plate, or
that breaks a model rule, is named with its error. The import runs in one transaction on
vehicles_db, so a confirmed file is stored whole or not at all. A plate already registered
updates that vehicle; an unchanged row is skipped.
"""

from __future__ import annotations

from import_export import fields, resources, widgets

from backend.contracts.plates import PLATE_EXAMPLES, normalise_plate
from backend.vehicles.models import Vehicle


class PlateWidget(widgets.CharWidget):
    def clean(self, value: object, row: dict | None = None, **kwargs: object) -> str:
        plate = normalise_plate(str(value or ""))
        if plate is None:
            raise ValueError(f"{value!r} is not a Korean plate (e.g. {PLATE_EXAMPLES})")
        return plate


class VehicleResource(resources.ModelResource):
    plate_number = fields.Field(attribute="plate_number", column_name="plate_number", widget=PlateWidget())

    class Meta:
        model = Vehicle
        fields = ("plate_number", "owner_name", "owner_phone")
        import_id_fields = ("plate_number",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
