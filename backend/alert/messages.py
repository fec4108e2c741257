"""The text of a violation push, in LANGUAGE_CODE (Korean; English is the source)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from backend.detections.models import Detection


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str]


def violation_message(detection: Detection, *, plate: str, token: str) -> PushMessage:
    local_time = detection.detected_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    # The owner's language is not known: pushes go out in the deployment's language.
    with translation.override(settings.LANGUAGE_CODE):
        title = _("[Speed enforcement] Speeding violation")
        body = _(
            "Vehicle %(plate)s was driven at %(speed).0f km/h where the limit is %(limit).0f km/h, "
            "at %(place)s on %(time)s."
        ) % {
            "plate": plate,
            "time": f"{local_time:%Y-%m-%d %H:%M}",
            "place": detection.location or _("the enforcement point"),
            "limit": detection.speed_limit,
            "speed": detection.detected_speed,
        }
    data = {
        "detection_id": str(detection.pk),
        "plate": plate,
        "speed": f"{detection.detected_speed:.1f}",
        "speed_limit": f"{detection.speed_limit:.1f}",
        "detected_at": detection.detected_at.isoformat(),
    }
    return PushMessage(token=token, title=title, body=body, data=data)
