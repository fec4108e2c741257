"""Route each app to its own database; refuse relations that would cross them."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

APP_DATABASES: dict[str, str] = {
    "vehicles": "vehicles_db",
    "detections": "detections_db",
    "cameras": "detections_db",  # the registry ingest reads beside every detection it stores
    "notifications": "notifications_db",
}
DEFAULT_DATABASE = "default"


def database_for_app(app_label: str) -> str:
    return APP_DATABASES.get(app_label, DEFAULT_DATABASE)


class AppLabelRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return database_for_app(model._meta.app_label)

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return database_for_app(model._meta.app_label)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        # Services refer to each other by plain ids; a relation across databases
        # would need a join the server cannot do.
        return database_for_app(obj1._meta.app_label) == database_for_app(obj2._meta.app_label)

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == database_for_app(app_label)
