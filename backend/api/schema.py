"""The OpenAPI document: every operation lists its error responses with the one error body
(backend.api.exceptions), and the views without a serializer get their response shapes."""

from __future__ import annotations

from drf_yasg import openapi
from drf_yasg.inspectors import SwaggerAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

API_INFO = openapi.Info(
    title="SpeedCam API",
    default_version="v1",
    description=(
        "Speed violations read from Korean licence plates (e.g. 12가3456), the registered vehicles and the "
        "pushes sent to their owners. Authenticate with `Authorization: Bearer <token>` "
        "(`python manage.py create_api_token USER --role admin|operator|owner`). Every list is paged by a "
        "cursor (`next`, `previous`; `page_size` up to 500). Every error has the body "
        '`{"error": {"status", "code", "message", "fields"}}`.'
    ),
    license=openapi.License(name="MIT"),
)


class ErrorDetail(serializers.Serializer):
    status = serializers.IntegerField(help_text="the HTTP status, repeated")
    code = serializers.CharField(help_text="stable: invalid, not_authenticated, permission_denied, not_found, ...")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="validation errors per field (400, 409)",
    )


class ErrorResponse(serializers.Serializer):
    error = ErrorDetail()


class SpeedCamAutoSchema(SwaggerAutoSchema):
    def get_response_serializers(self) -> dict:
        responses = super().get_response_serializers()
        errors = {"429": "too many requests (throttled)"}
        permissions = getattr(self.view, "permission_classes", [])
        if permissions and not any(permission is AllowAny for permission in permissions):
            errors["401"] = "no token, or an unknown one"
            errors["403"] = "the token's role may not do this"
        if self.method in ("POST", "PUT", "PATCH") or self.should_filter() or self.get_query_serializer():
            errors["400"] = "the request is not valid (see fields)"
        if "{" in self.path:
            errors["404"] = "no such object, or not yours"
        if getattr(self.view, "action", None) in ("create", "update", "partial_update"):
            errors["409"] = "it exists already"
        for code, description in errors.items():
            responses.setdefault(code, openapi.Response(description, ErrorResponse))
        return responses


class TokenRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenResponse(serializers.Serializer):
    token = serializers.CharField(help_text="send as `Authorization: Bearer <token>`")


class DayCount(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()


class CameraCount(serializers.Serializer):
    camera_id = serializers.CharField()
    count = serializers.IntegerField()


class HourCount(serializers.Serializer):
    hour = serializers.DateTimeField(help_text="the hour's start, local time")
    count = serializers.IntegerField()


class OverspeedBand(serializers.Serializer):
    from_kmh = serializers.IntegerField(help_text="km/h over the limit, lower bound of a 10 km/h band")
    count = serializers.IntegerField()


class ReadOutcomes(serializers.Serializer):
    read = serializers.IntegerField(help_text="completed, no review needed")
    review = serializers.IntegerField(help_text="completed, held for a person")
    failed = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="pending or processing")


class CameraState(serializers.Serializer):
    camera_id = serializers.CharField()
    location = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    silent = serializers.BooleanField(help_text="not heard from within CAMERA_SILENT_AFTER_S, or offline")


class PipelineState(serializers.Serializer):
    detections = serializers.DictField(child=serializers.IntegerField(), help_text="count per detection status")
    notifications = serializers.DictField(child=serializers.IntegerField(), help_text="count per notification status")
    dlq_depth = serializers.IntegerField(allow_null=True, help_text="dead letters; null when the broker is down")
    queues = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), help_text="messages ready per queue; null when unknown"
    )


class StatsResponse(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    per_day = DayCount(many=True)
    per_hour = HourCount(many=True, help_text="the last 48 hours, whatever the date range")
    per_camera = CameraCount(many=True)
    overspeed = OverspeedBand(many=True)
    reads = ReadOutcomes()
    pipeline = PipelineState()
    cameras = CameraState(many=True)
