from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from backend.api.roles import role_of


class HasRole(BasePermission):
    """Allow the roles listed in the view's `allowed_roles`."""

    message = _("Your role may not use this endpoint.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        role = role_of(request.user)
        request.role = role
        return role is not None and role in getattr(view, "allowed_roles", ())
