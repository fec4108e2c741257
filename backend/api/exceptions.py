"""One error body for every API failure, and domain errors mapped to their HTTP status.

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"plate_number": ["..."]}}}

`code` is stable and machine-readable (DRF's codes: invalid, not_authenticated,
permission_denied, not_found, method_not_allowed, throttled, conflict, ...); `fields` is
present for validation errors only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state (a duplicate?).")
    default_code = "conflict"


def _from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError, with its codes (a `unique` one becomes a 409 below)."""
    return exceptions.ValidationError(as_serializer_error(error))


def _message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return str(_("The request is not valid: see fields."))
    if isinstance(exc, Conflict) and not isinstance(exc.detail, str):
        return str(Conflict.default_detail)
    return str(exc.detail)


def _flat_codes(codes: object) -> set[str]:
    if isinstance(codes, str):
        return {codes}
    values = codes.values() if isinstance(codes, dict) else codes
    return set().union(*(_flat_codes(value) for value in values)) if values else set()


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    # A duplicate, found by a serializer's UniqueValidator or by the model's own validation.
    if isinstance(exc, exceptions.ValidationError) and _flat_codes(exc.get_codes()) & {"unique", "unique_together"}:
        conflict = Conflict()
        conflict.detail = exc.detail
        exc = conflict
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # not an API error: Django's 500 handling and logging
    body: dict[str, Any] = {
        "status": response.status_code,
        "code": exc.default_code if isinstance(exc, exceptions.ValidationError) else _code(exc),
        "message": _message(exc),
    }
    if isinstance(exc.detail, dict | list):
        body["fields"] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    response.data = {"error": body}
    return response


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code
