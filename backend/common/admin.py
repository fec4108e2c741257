"""Admin pages of records the pipeline writes: shown, never typed in or edited in a form."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.db.models import Model
from django.http import HttpRequest


class PipelineRecordAdmin(admin.ModelAdmin):
    """No add page and no change form: the row is written by the pipeline (or by a camera,
    through ingest), and a form would change it past the services that keep it true.
    Operators act through admin actions; one declared with `permissions=["operate"]` needs
    the model's Django "change" permission, which the page itself then never uses."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}")
