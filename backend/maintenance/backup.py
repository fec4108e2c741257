"""Backup and restore of a whole SpeedCam system: the four databases and the evidence bucket.

The databases go through the server's own dump tool (mariadb-dump or mysqldump, one
consistent snapshot per database with --single-transaction); the evidence objects through
the real GCS client, each with its content type, metadata and MD5 so a restore can check
it. A backup directory holds `databases/<alias>.sql`, `evidence/<object name>` and
`manifest.json`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from backend.common.gcs import storage_client

MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """A backup or restore step failed; the message says which and why."""


@dataclass(frozen=True)
class Summary:
    databases: dict[str, int]  # alias -> bytes of SQL
    objects: int
    object_bytes: int


def _client_tool(*names: str) -> str:
    for name in names:
        if path := shutil.which(name):
            return path
    raise BackupError(f"none of {', '.join(names)} is installed (the MySQL/MariaDB client tools)")


def _connection_arguments(alias: str) -> tuple[list[str], dict[str, str]]:
    database = settings.DATABASES[alias]
    arguments = [
        f"--host={database['HOST']}",
        f"--port={database['PORT']}",
        f"--user={database['USER']}",
        "--default-character-set=utf8mb4",
    ]
    if settings.DB_SSL_MODE == "required":
        arguments.append(f"--ssl-ca={settings.DB_SSL_CA}")
    # The password goes through the environment, never the command line (ps shows that).
    return arguments, {**os.environ, "MYSQL_PWD": database["PASSWORD"]}


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def backup(directory: Path) -> Summary:
    """Write a full backup into `directory` (which must be empty or absent)."""
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty")
    (directory / "databases").mkdir(parents=True)
    dump = _client_tool("mariadb-dump", "mysqldump")
    sizes = {}
    for alias, database in settings.DATABASES.items():
        arguments, env = _connection_arguments(alias)
        target = directory / "databases" / f"{alias}.sql"
        with target.open("wb") as out:
            result = subprocess.run(
                [dump, *arguments, "--single-transaction", "--routines", "--triggers", "--hex-blob",
                 "--no-tablespaces", database["NAME"]],
                stdout=out, stderr=subprocess.PIPE, env=env, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise BackupError(f"dumping {alias} ({database['NAME']}) failed: {result.stderr.decode()[-500:]}")
        sizes[alias] = target.stat().st_size
    objects = []
    bucket = storage_client().bucket(settings.GCS_BUCKET_NAME)
    for blob in storage_client().list_blobs(bucket):
        target = directory / "evidence" / blob.name
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
        if blob.md5_hash and _md5(target) != blob.md5_hash:
            raise BackupError(f"evidence {blob.name}: the downloaded copy does not match its MD5")
        objects.append(
            {
                "name": blob.name,
                "size": target.stat().st_size,
                "md5": _md5(target),
                "content_type": blob.content_type,
                "metadata": blob.metadata or {},
            }
        )
    manifest = {
        "created_at": datetime.now(UTC).isoformat(),
        "bucket": settings.GCS_BUCKET_NAME,
        "databases": {alias: settings.DATABASES[alias]["NAME"] for alias in settings.DATABASES},
        "objects": objects,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return Summary(sizes, len(objects), sum(item["size"] for item in objects))


def restore(directory: Path) -> Summary:
    """Load a backup into this system's (empty) databases and bucket."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a SpeedCam backup")
    manifest = json.loads(manifest_path.read_text())
    client_tool = _client_tool("mariadb", "mysql")
    sizes = {}
    for alias, database in settings.DATABASES.items():
        dump = directory / "databases" / f"{alias}.sql"
        if not dump.is_file():
            raise BackupError(f"the backup has no dump of {alias}")
        arguments, env = _connection_arguments(alias)
        with dump.open("rb") as source:
            result = subprocess.run(
                [client_tool, *arguments, database["NAME"]], stdin=source, stderr=subprocess.PIPE, env=env, check=False
            )
        if result.returncode != 0:
            raise BackupError(f"restoring {alias} into {database['NAME']} failed: {result.stderr.decode()[-500:]}")
        sizes[alias] = dump.stat().st_size
    bucket = storage_client().bucket(settings.GCS_BUCKET_NAME)
    for item in manifest["objects"]:
        source = directory / "evidence" / item["name"]
        if _md5(source) != item["md5"]:
            raise BackupError(f"evidence {item['name']} in the backup is damaged (MD5 differs)")
        blob = bucket.blob(item["name"])
        blob.metadata = item["metadata"] or None
        blob.upload_from_filename(str(source), content_type=item["content_type"])
    return Summary(sizes, len(manifest["objects"]), sum(item["size"] for item in manifest["objects"]))
