"""Violations out of the admin (the "Export" action on selected detections): the same
columns as the API's ?format=csv|xlsx export."""

from __future__ import annotations

from import_export import fields, resources

from backend.detections.models import Detection


class ViolationResource(resources.ModelResource):
    plate = fields.Field(attribute="plate", column_name="plate", readonly=True)
    overspeed = fields.Field(column_name="overspeed_kmh", readonly=True)

    class Meta:
        model = Detection
        fields = (
            "id",
            "event_id",
            "detected_at",
            "camera_id",
            "location",
            "speed_limit",
            "measured_speed",
            "speed_uncertainty",
            "speed_tolerance",
            "detected_speed",
            "overspeed",
            "plate",
            "status",
            "needs_review",
            "image_sha256",
        )
        export_order = fields

    def dehydrate_overspeed(self, detection: Detection) -> float:
        return round(detection.overspeed_kmh, 1)
