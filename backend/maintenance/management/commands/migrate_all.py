"""`manage.py migrate_all`: migrate every database the project routes to, in order.

The upgrade step of a deployment (compose's `migrate` service, the Kubernetes Job): run it
before rolling the roles onto a new image.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run migrate on each of the project's databases (default first)."

    def handle(self, *args: object, **options: object) -> None:
        for alias in settings.DATABASES:
            self.stdout.write(f"migrating {alias}")
            call_command("migrate", database=alias, interactive=False, verbosity=int(str(options["verbosity"])) - 1)
