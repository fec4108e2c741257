"""The admin site, with an operations page for dead letters (dlq_queue)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _

from backend.config.celery import app as celery_app
from backend.messaging import dlq


class SpeedCamAdminSite(admin.AdminSite):
    site_header = _("SpeedCam administration")
    site_title = "SpeedCam"

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [path("dlq/", self.admin_view(self.dead_letters), name="dlq"), *super().get_urls()]

    def dead_letters(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_superuser:
            return HttpResponse(_("Only administrators may handle dead letters."), status=403)
        with celery_app.connection_for_write() as connection:
            if request.method == "POST":
                action = request.POST.get("action")
                if action == "replay":
                    chosen = set(request.POST.getlist("task_id"))
                    replayed = dlq.replay(connection, chosen or None)
                    messages.success(request, _("Replayed %(count)d message(s).") % {"count": len(replayed)})
                elif action == "purge":
                    messages.warning(request, _("Purged %(count)d message(s).") % {"count": dlq.purge(connection)})
                return HttpResponseRedirect(reverse("admin:dlq"))
            letters = dlq.peek(connection, limit=200)
        context = {**self.each_context(request), "title": _("Dead letters (dlq_queue)"), "letters": letters}
        return TemplateResponse(request, "admin/dlq.html", context)
