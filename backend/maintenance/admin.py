from django.contrib import admin

from backend.common.admin import PipelineRecordAdmin
from backend.maintenance.models import MaintenanceRun


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(PipelineRecordAdmin):
    list_display = ("started_at", "job", "summary", "finished_at")
    list_filter = ("job",)
    date_hierarchy = "started_at"
    readonly_fields = ("job", "started_at", "finished_at", "summary", "details")
