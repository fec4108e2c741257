"""The Korean text of a violation push."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

from backend.detections.models import Detection


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str]


def violation_message(detection: Detection, *, plate: str, token: str) -> PushMessage:
    local_time = detection.detected_at.astimezone(ZoneInfo(settings.TIME_ZONE))
    title = "[과속 단속] 속도위반 알림"
    body = (
        f"{plate} 차량이 {local_time:%Y-%m-%d %H:%M} {detection.location or '단속 지점'}에서 "
        f"제한속도 {detection.speed_limit:.0f}km/h 구간을 {detection.detected_speed:.0f}km/h로 주행했습니다."
    )
    data = {
        "detection_id": str(detection.pk),
        "plate": plate,
        "speed": f"{detection.detected_speed:.1f}",
        "speed_limit": f"{detection.speed_limit:.1f}",
        "detected_at": detection.detected_at.isoformat(),
    }
    return PushMessage(token=token, title=title, body=body, data=data)
