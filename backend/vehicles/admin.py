from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from backend.vehicles.models import Vehicle
from backend.vehicles.resources import VehicleResource


@admin.register(Vehicle)
class VehicleAdmin(ImportExportModelAdmin):
    list_display = ("plate_number", "owner_name", "created_at")
    search_fields = ("plate_number", "owner_name")
    # Bulk registration: Import (a CSV or XLSX with plate_number, owner_name, owner_phone),
    # previewed row by row before anything is stored.
    resource_classes = [VehicleResource]
    formats = [CSV, XLSX]
