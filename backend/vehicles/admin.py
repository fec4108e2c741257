from django.contrib import admin

from backend.vehicles.models import Vehicle


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ("plate_number", "owner_name", "created_at")
    search_fields = ("plate_number", "owner_name")
