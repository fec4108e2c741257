"""`manage.py rejected list|show|replay`: the messages ingest parked instead of storing."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.detections.models import RejectedEvent
from backend.detections.selectors import rejected_event_by_id, rejected_events
from backend.ingest.handling import replay_rejected


class Command(BaseCommand):
    help = "Inspect or replay the messages ingest parked in the rejected-events store."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        listing = commands.add_parser("list", help="one line per parked message, newest first")
        listing.add_argument("--reason", help="only this reason, e.g. unknown_camera")
        listing.add_argument("--camera", help="only this camera")
        listing.add_argument("--pending", action="store_true", help="only those not yet replayed successfully")
        listing.add_argument("--limit", type=int, default=100)
        listing.add_argument("--json", action="store_true", help="one JSON object per line")
        show = commands.add_parser("show", help="everything about one parked message")
        show.add_argument("rejected_id", type=int)
        replay = commands.add_parser("replay", help="apply parked messages again (their cause fixed)")
        replay.add_argument("rejected_ids", nargs="*", type=int)
        replay.add_argument("--reason", help="replay every pending message with this reason")
        replay.add_argument("--camera", help="... and/or from this camera")
        replay.add_argument("--limit", type=int, default=1000)

    def handle(self, *args: object, command: str, **options: object) -> None:
        if command == "list":
            self._list(**options)
        elif command == "show":
            self._show(options["rejected_id"])
        else:
            self._replay(**options)

    def _list(self, *, reason: str | None, camera: str | None, pending: bool, limit: int, json: bool, **_: object):
        rows = rejected_events(reason=reason, camera_id=camera, pending_only=pending, limit=limit)
        for row in rows:
            if json:
                self.stdout.write(_json(_summary(row)))
            else:
                replayed = f"  replayed: {row.replay_outcome}" if row.replayed_at else ""
                self.stdout.write(
                    f"{row.pk:>8}  {row.received_at:%Y-%m-%d %H:%M:%S}  {row.camera_id or '-':<12}  "
                    f"{row.reason:<28} {row.topic[:40]}{replayed}"
                )
        if not json:
            self.stdout.write(f"{len(rows)} rejected event(s)")

    def _show(self, rejected_id: int) -> None:
        row = rejected_event_by_id(rejected_id)
        if row is None:
            raise CommandError(f"no rejected event {rejected_id}")
        self.stdout.write(_json({**_summary(row), "detail": row.detail, "payload": row.payload_excerpt}, indent=2))

    def _replay(
        self, *, rejected_ids: list[int], reason: str | None, camera: str | None, limit: int, **_: object
    ) -> None:
        if not rejected_ids and not (reason or camera):
            raise CommandError("name rejected ids, or select with --reason/--camera")
        ids = list(rejected_ids) or [
            row.pk for row in rejected_events(reason=reason, camera_id=camera, pending_only=True, limit=limit)
        ]
        applied = 0
        for rejected_id in ids:
            try:
                outcome = replay_rejected(rejected_id)
            except LookupError as error:
                raise CommandError(str(error)) from error
            applied += outcome.startswith("applied")
            self.stdout.write(f"{rejected_id}: {outcome}")
        self.stdout.write(f"replayed {len(ids)}: {applied} applied, {len(ids) - applied} still rejected")


def _summary(row: RejectedEvent) -> dict[str, object]:
    return {
        "id": row.pk,
        "received_at": row.received_at.isoformat(),
        "topic": row.topic,
        "camera_id": row.camera_id,
        "reason": row.reason,
        "attempts": row.attempts,
        "payload_size": row.payload_size,
        "replayed_at": row.replayed_at.isoformat() if row.replayed_at else None,
        "replay_outcome": row.replay_outcome,
    }


def _json(value: object, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)
