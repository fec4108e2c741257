"""Least privilege in the database: what each worker role may touch, table by table.

The main role (web, ingest, admin, migrations) owns the schemas. The workers get their
own users with the grants below and nothing else: the OCR worker, which parses untrusted
images, cannot read `auth_user`, sessions or API tokens, nor write a notification.
`manage.py db_role_grants` prints the SQL for a database administrator to run after
migrations (table grants need the tables).
"""

from __future__ import annotations

# alias -> table -> privileges
RESULTS = "SELECT, INSERT, UPDATE, DELETE"  # django-celery-results: the task's own result rows
CELERY_RESULT_TABLES = {
    "django_celery_results_taskresult": RESULTS,
    "django_celery_results_groupresult": RESULTS,
    "django_celery_results_chordcounter": RESULTS,
}
ROLE_GRANTS: dict[str, dict[str, dict[str, str]]] = {
    "ocr": {
        "default": CELERY_RESULT_TABLES,
        "detections_db": {"detections": "SELECT, UPDATE"},
        "vehicles_db": {"vehicles": "SELECT"},
    },
    "alert": {
        "default": CELERY_RESULT_TABLES,
        "detections_db": {"detections": "SELECT"},
        "vehicles_db": {"vehicles": "SELECT"},
        "notifications_db": {"notifications": "SELECT, INSERT, UPDATE"},
    },
    "maintenance": {
        "default": {**CELERY_RESULT_TABLES, "maintenance_runs": "SELECT, INSERT"},
        "detections_db": {"detections": "SELECT, UPDATE", "cameras": "SELECT"},
        "vehicles_db": {"vehicles": "SELECT"},
        "notifications_db": {"notifications": "SELECT, INSERT, UPDATE"},
    },
}
WORKER_ROLES = tuple(ROLE_GRANTS)


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def grant_statements(role: str, *, user: str, hosts: list[str], databases: dict[str, str]) -> list[str]:
    """REVOKE-then-GRANT SQL giving `user` exactly `role`'s grants on these databases
    (alias -> database name). Idempotent: run it after every migration."""
    statements = []
    for host in hosts:
        account = f"{_quote_string(user)}@{_quote_string(host)}"
        statements.append(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}")
        for alias, tables in ROLE_GRANTS[role].items():
            for table, privileges in tables.items():
                target = f"{_quote_identifier(databases[alias])}.{_quote_identifier(table)}"
                statements.append(f"GRANT {privileges} ON {target} TO {account}")
    return statements
