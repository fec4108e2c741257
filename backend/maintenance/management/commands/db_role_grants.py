"""`manage.py db_role_grants`: the SQL that gives each worker role's database user exactly
its grants (backend.config.db_roles). Run it as a database administrator after `migrate`:

    python manage.py db_role_grants | mysql -u root -p
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from backend.config.db_roles import WORKER_ROLES, grant_statements


class Command(BaseCommand):
    help = "Print GRANT statements for the OCR, alert and maintenance roles' database users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", action="append", help="account host part (repeatable; default '%%')")
        parser.add_argument(
            "--database-prefix", default="", help="prefix of every database name, e.g. test_ for pytest's"
        )

    def handle(self, *args: object, host: list[str] | None, database_prefix: str, **options: object) -> None:
        databases = {alias: database_prefix + config["NAME"] for alias, config in settings.DATABASES.items()}
        for role in WORKER_ROLES:
            user = os.environ.get(f"DB_USER_{role.upper()}")
            if not user:
                self.stderr.write(f"DB_USER_{role.upper()} is not set: the {role} role uses DB_USER")
                continue
            for statement in grant_statements(role, user=user, hosts=host or ["%"], databases=databases):
                self.stdout.write(statement + ";")
