"""/metrics for Prometheus, behind a token like every other non-health endpoint."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView
from rest_framework.exceptions import AuthenticationFailed

from backend.api.authentication import BearerTokenAuthentication
from backend.api.roles import Role, role_of


def _authorised(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme != "Bearer" or not credential:
        return False
    if settings.METRICS_TOKEN and hmac.compare_digest(credential, settings.METRICS_TOKEN):
        return True  # the scraper's own token
    try:
        user_and_token = BearerTokenAuthentication().authenticate_credentials(credential)
    except AuthenticationFailed:
        return False
    return role_of(user_and_token[0]) in (Role.ADMIN, Role.OPERATOR)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        response = HttpResponse(
            "metrics need Authorization: Bearer <METRICS_TOKEN or an operator token>\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return ExportToDjangoView(request)
