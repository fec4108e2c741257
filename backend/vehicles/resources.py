"""Vehicles in and out of the admin as CSV or XLSX (django-import-export).

An import is previewed first, row by row. A row whose plate is not a Korean plate, or
that breaks a model rule, is named with its error and left out; the good rows can still be
confirmed. The confirmed rows are stored in one transaction on vehicles_db: all of them or,
if the database fails midway, none. A plate already registered updates that vehicle; an
unchanged row is skipped.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.results import Result

from backend.contracts.plates import PLATE_EXAMPLES, normalise_plate
from backend.vehicles.models import Vehicle


class PlateWidget(widgets.CharWidget):
    def clean(self, value: object, row: dict | None = None, **kwargs: object) -> str:
        plate = normalise_plate(str(value or ""))
        if plate is None:
            raise ValueError(
                _("%(plate)r is not a Korean plate (e.g. %(examples)s)") % {"plate": value, "examples": PLATE_EXAMPLES}
            )
        return plate


class ImportWithRejectedRows(Result):
    """A result whose invalid rows are reported but do not hold back the valid ones: the
    admin offers the confirmation, and the import leaves those rows out."""

    def has_validation_errors(self) -> bool:
        return False

    @property
    def rejected_rows(self) -> list:
        return self.invalid_rows


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

    @classmethod
    def get_result_class(cls) -> type[Result]:
        return ImportWithRejectedRows

    def get_instance(self, instance_loader: object, row: dict) -> Vehicle | None:
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            # Not a plate, so no registered vehicle: the row's import reports the plate
            # as its validation error instead of failing the whole file.
            return None
