import hashlib
import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import F

from backend.detections.evidence_urls import read_evidence
from backend.detections.models import Detection


class Command(BaseCommand):
    help = (
        "Write the plates people corrected in the review queue as training data: each verified snapshot, "
        "DIR/labels.json ({file: plate}), DIR/boxes.json ({file: [x, y, w, h]} where the plate was read) and "
        "DIR/corrections.json (engine's read, correction, reviewer, time). DIR is `manage.py ocr_eval` input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--since", type=date.fromisoformat, help="reviewed on or after this day (YYYY-MM-DD)")
        parser.add_argument(
            "--include-accepted", action="store_true", help="also reads a reviewer accepted as they were"
        )

    def handle(self, *args: object, directory: Path, since: date | None, include_accepted: bool, **options) -> None:
        reviewed = Detection.objects.filter(
            reviewed_plate__isnull=False, personal_data_purged_at__isnull=True
        ).order_by("reviewed_at")
        if not include_accepted:
            reviewed = reviewed.exclude(reviewed_plate=F("ocr_result"))
        if since:
            reviewed = reviewed.filter(reviewed_at__date__gte=since)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"cannot create {directory}: {error}") from error
        labels, boxes, records, skipped = {}, {}, [], 0
        for detection in reviewed.iterator():
            try:
                image = read_evidence(detection)
            except Exception as error:  # gone from storage: nothing to learn from
                self.stderr.write(f"detection {detection.pk}: evidence unavailable ({error}); skipped")
                skipped += 1
                continue
            if hashlib.sha256(image).hexdigest() != detection.image_sha256:
                self.stderr.write(f"detection {detection.pk}: evidence does not match its hash; skipped")
                skipped += 1
                continue
            name = f"correction-{detection.pk}.jpg"
            (directory / name).write_bytes(image)
            labels[name] = detection.reviewed_plate
            if detection.plate_box:
                boxes[name] = detection.plate_box
            records.append(
                {
                    "file": name,
                    "detection_id": detection.pk,
                    "event_id": detection.event_id,
                    "read": detection.ocr_result,
                    "confidence": detection.ocr_confidence,
                    "plate": detection.reviewed_plate,
                    "reviewed_by": detection.reviewed_by,
                    "reviewed_at": detection.reviewed_at.isoformat() if detection.reviewed_at else None,
                }
            )
        (directory / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
        (directory / "boxes.json").write_text(json.dumps(boxes, indent=1), encoding="utf-8")
        (directory / "corrections.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
        self.stdout.write(f"{len(labels)} correction(s) written to {directory}; {skipped} skipped")
