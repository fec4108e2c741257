"""`manage.py restore DIR`: load a `manage.py backup` into empty, migrated databases and the bucket.

Afterwards re-apply the workers' grants (`manage.py db_role_grants | mysql -uroot`), as
after any migration.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.maintenance.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` (databases first, then evidence)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: object, **options: object) -> None:
        try:
            summary = restore(Path(str(options["directory"])))
        except BackupError as error:
            raise CommandError(str(error)) from error
        for alias, size in summary.databases.items():
            self.stdout.write(f"database {alias}: restored from {size} bytes of SQL")
        self.stdout.write(f"evidence: {summary.objects} objects, {summary.object_bytes} bytes")
