from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.cameras.models import Camera


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ("camera_id", "location", "speed_limit", "active", "liveness", "last_seen_at", "last_state")
    list_filter = ("active", "last_state")
    search_fields = ("camera_id", "location")
    # Broker identity and liveness come from provisioning and the cameras themselves.
    readonly_fields = ("mqtt_username", "last_seen_at", "last_state", "last_counters", "created_at", "updated_at")

    @admin.display(description=_("liveness"))
    def liveness(self, camera: Camera) -> str:
        if not camera.active:
            return _("retired")
        if camera.last_seen_at is None:
            return _("never seen")
        if camera.last_state == Camera.State.OFFLINE:
            return _("offline")
        silent = timezone.now() - camera.last_seen_at
        if silent > timedelta(seconds=settings.CAMERA_SILENT_AFTER_S):
            return _("silent for %(minutes)d min") % {"minutes": silent.total_seconds() // 60}
        return _("alive")
