"""Output and input shapes of the API. Personal data is masked for operators."""

from __future__ import annotations

from rest_framework import serializers

from backend.api.masking import mask_name, mask_phone, mask_token
from backend.api.roles import Role
from backend.detections.models import Detection
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle


class VehicleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = [
            "id",
            "plate_number",
            "owner_name",
            "owner_phone",
            "fcm_token",
            "owner_user_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"plate_number": {"help_text": "e.g. 12가3456"}}

    def to_representation(self, instance: Vehicle) -> dict:
        data = super().to_representation(instance)
        if self.context.get("role") != Role.ADMIN and not self.context.get("own_vehicle"):
            data["owner_name"] = mask_name(data["owner_name"])
            data["owner_phone"] = mask_phone(data["owner_phone"])
            data["fcm_token"] = mask_token(data["fcm_token"])
        return data


class FcmTokenSerializer(serializers.Serializer):
    fcm_token = serializers.CharField(
        min_length=20, max_length=255, trim_whitespace=True, help_text="the FCM registration token of the owner's app"
    )


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "detection_id",
            "status",
            "title",
            "body",
            "sent_at",
            "retry_count",
            "error_message",
            "created_at",
        ]


class Kmh(serializers.FloatField):
    """A speed, shown to 0.1 km/h (the meter's own resolution; no float noise)."""

    def to_representation(self, value: float) -> float:
        return round(float(value), 1)


class ViolationSerializer(serializers.ModelSerializer):
    detected_speed = Kmh(read_only=True, help_text="km/h, after the uncertainty and tolerance deductions")
    measured_speed = Kmh(read_only=True, allow_null=True, help_text="km/h as measured, before deductions")
    speed_uncertainty = Kmh(read_only=True, allow_null=True, help_text="km/h, expanded (k=2)")
    speed_tolerance = Kmh(read_only=True, allow_null=True, help_text="km/h deducted by the camera's tolerance")
    speed_limit = Kmh(read_only=True)
    plate = serializers.CharField(
        allow_null=True, read_only=True, help_text="the plate: a reviewer's if reviewed, else the engine's read"
    )
    read_plate = serializers.CharField(source="ocr_result", allow_null=True, help_text="the engine's read, as it was")
    overspeed = Kmh(source="overspeed_kmh", read_only=True, help_text="km/h over the limit")

    class Meta:
        model = Detection
        fields = [
            "id",
            "event_id",
            "camera_id",
            "location",
            "detected_speed",
            "measured_speed",
            "speed_uncertainty",
            "speed_tolerance",
            "speed_limit",
            "overspeed",
            "detected_at",
            "status",
            "plate",
            "read_plate",
            "ocr_confidence",
            "vehicle_id",
            "needs_review",
            "reviewed_at",
            "review_reason",
            "plate_match",
            "processed_at",
            "error_message",
        ]


class ViolationDetailSerializer(ViolationSerializer):
    vehicle = serializers.SerializerMethodField()
    notifications = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(help_text="short-lived link to the snapshot")
    image_url_expires_at = serializers.SerializerMethodField()
    trace_id = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="the OpenTelemetry trace of this detection (null when tracing is off)",
    )

    class Meta(ViolationSerializer.Meta):
        fields = [
            *ViolationSerializer.Meta.fields,
            "trace_id",
            "image_gcs_uri",
            "image_sha256",
            "vehicle",
            "notifications",
            "image_url",
            "image_url_expires_at",
        ]

    def get_vehicle(self, detection: Detection) -> dict | None:
        vehicle = self.context["vehicles"].get(detection.vehicle_id)
        return VehicleSerializer(vehicle, context=self.context).data if vehicle else None

    def get_notifications(self, detection: Detection) -> list[dict]:
        return NotificationSerializer(self.context["notifications"].get(detection.pk, []), many=True).data

    def get_image_url(self, detection: Detection) -> str:
        return self.context["image"][0]

    def get_image_url_expires_at(self, detection: Detection) -> str:
        return self.context["image"][1].isoformat()
