from django.contrib import admin

from backend.maintenance.models import MaintenanceRun


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "job", "summary", "finished_at")
    list_filter = ("job",)
    date_hierarchy = "started_at"
    readonly_fields = ("job", "started_at", "finished_at", "summary", "details")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
