"""`manage.py backup DIR`: the four databases and every evidence object, into DIR."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.maintenance.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the four databases (consistent dumps) and the evidence bucket into an empty directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: object, **options: object) -> None:
        try:
            summary = backup(Path(str(options["directory"])))
        except BackupError as error:
            raise CommandError(str(error)) from error
        for alias, size in summary.databases.items():
            self.stdout.write(f"database {alias}: {size} bytes of SQL")
        self.stdout.write(f"evidence: {summary.objects} objects, {summary.object_bytes} bytes")
