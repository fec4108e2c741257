import time
import unicodedata

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.detections.models import Detection
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle


def _display_width(text: str) -> int:
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Command(BaseCommand):
    help = (
        "Show how detections ended: status, plate, vehicle, notification, or why they wait for a person's "
        "review. Optionally wait for them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_ids", nargs="*", help="event ids to show (default: the latest --limit)")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            help="seconds to wait until every shown detection and its notification are final",
        )

    def handle(self, *args: object, event_ids: list[str], limit: int, wait: float, **options: object) -> None:
        if limit < 1:
            raise CommandError("--limit must be >= 1")
        deadline = time.monotonic() + wait
        while True:
            rows = self._rows(event_ids, limit)
            if (all(row[-1] for row in rows) and len(rows) >= len(event_ids)) or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        header = ("event_id", "id", "speed/limit", "status", "plate", "vehicle", "notification or review")
        table = [header] + [row[:-1] for row in rows]
        widths = [max(_display_width(str(row[i])) for row in table) for i in range(len(header))]
        for row in table:
            cells = (
                str(cell) + " " * (width - _display_width(str(cell))) for cell, width in zip(row, widths, strict=True)
            )
            self.stdout.write("  ".join(cells).rstrip())
        if any(not row[-1] for row in rows) or len(rows) < len(event_ids):
            raise CommandError("some detections did not reach a final state in time")

    @staticmethod
    def _rows(event_ids: list[str], limit: int) -> list[tuple]:
        newest_first = Detection.objects.order_by("-id")
        detections = list(newest_first.filter(event_id__in=event_ids) if event_ids else newest_first[:limit])
        vehicles = Vehicle.objects.in_bulk([d.vehicle_id for d in detections if d.vehicle_id])
        notifications = {
            n.detection_id: n for n in Notification.objects.filter(detection_id__in=[d.pk for d in detections])
        }
        rows = []
        for detection in detections:
            vehicle = vehicles.get(detection.vehicle_id)
            notification = notifications.get(detection.pk)
            if notification is None and detection.needs_review and detection.status == Detection.Status.COMPLETED:
                # Final for the pipeline: nobody is notified until a person decides.
                notice, notice_final = f"review: {detection.review_reason}", True
            elif notification is None:
                notice, notice_final = "-", detection.status == Detection.Status.FAILED
            else:
                notice = notification.status + (
                    f" ({notification.error_message})" if notification.error_message else ""
                )
                notice_final = notification.status != Notification.Status.PENDING
            rows.append(
                (
                    detection.event_id,
                    detection.pk,
                    f"{detection.detected_speed:.0f}/{detection.speed_limit:.0f}",
                    detection.status + (f" ({detection.error_message})" if detection.error_message else ""),
                    detection.plate or "-",
                    vehicle.owner_name if vehicle else "-",
                    notice,
                    detection.status in Detection.FINAL_STATUSES and notice_final,
                )
            )
        return rows
