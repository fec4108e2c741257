from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import Result

from backend.vehicles.models import Vehicle
from backend.vehicles.resources import VehicleResource


@admin.register(Vehicle)
class VehicleAdmin(ImportExportModelAdmin):
    list_display = ("plate_number", "owner_name", "created_at")
    search_fields = ("plate_number", "owner_name")
    # Bulk registration: Import (a CSV or XLSX with plate_number, owner_name, owner_phone),
    # previewed row by row before anything is stored; bad rows are named and left out.
    resource_classes = [VehicleResource]
    formats = [CSV, XLSX]
    import_template_name = "admin/vehicles/vehicle/import.html"

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        response = super().process_result(result, request)
        if result.invalid_rows:
            lines = ", ".join(str(row.number) for row in result.invalid_rows)
            messages.warning(
                request,
                ngettext(
                    "%(count)d row was left out (line %(lines)s): fix it and import it again.",
                    "%(count)d rows were left out (lines %(lines)s): fix them and import them again.",
                    len(result.invalid_rows),
                )
                % {"count": len(result.invalid_rows), "lines": lines},
            )
        return response
