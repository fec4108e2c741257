"""`manage.py dlq list|show|replay|purge`: the dead-letter queue from a shell."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.config.celery import app as celery_app
from backend.messaging import dlq


class Command(BaseCommand):
    help = "Inspect, replay or purge dead letters in dlq_queue."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        listing = commands.add_parser("list", help="one line per dead letter")
        show = commands.add_parser("show", help="everything about one dead letter")
        show.add_argument("task_id")
        replay = commands.add_parser("replay", help="send dead letters back where they died")
        replay.add_argument("task_ids", nargs="*", help="task ids to replay")
        replay.add_argument("--all", action="store_true", help="replay every matching dead letter")
        purge = commands.add_parser("purge", help="delete every dead letter")
        purge.add_argument("--yes", action="store_true", help="confirm")
        for sub in (listing, replay):
            sub.add_argument("--task", help="only this task name, e.g. ocr.process_detection")
            sub.add_argument("--reason", help="only this death reason: rejected, expired, maxlen")
        listing.add_argument("--limit", type=int, default=100)
        listing.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args: object, command: str, **options: object) -> None:
        with celery_app.connection_for_write() as connection:
            if command == "list":
                self._list(connection, **options)
            elif command == "show":
                self._show(connection, options["task_id"])
            elif command == "replay":
                self._replay(connection, **options)
            elif command == "purge":
                if not options["yes"]:
                    raise CommandError("purge deletes every dead letter: add --yes to confirm")
                self.stdout.write(f"purged {dlq.purge(connection)} dead letter(s)")

    @staticmethod
    def _matching(letters: list[dlq.DeadLetter], task: str | None, reason: str | None) -> list[dlq.DeadLetter]:
        return [
            letter
            for letter in letters
            if (task is None or letter.task == task) and (reason is None or letter.reason == reason)
        ]

    def _list(
        self,
        connection,
        *,
        task: str | None,
        reason: str | None,
        limit: int,
        json: bool,
        **_: object,
    ) -> None:
        if limit < 1:
            raise CommandError("--limit must be >= 1")
        letters = self._matching(dlq.peek(connection, limit=dlq.PEEK_LIMIT), task, reason)[:limit]
        for letter in letters:
            if json:
                self.stdout.write(_json(letter))
            else:
                self.stdout.write(
                    f"{letter.task_id}  {letter.task}  {letter.reason}  {letter.queue}  "
                    f"{letter.died_at}  {letter.arguments}"
                )
        if not json:
            self.stdout.write(f"{len(letters)} dead letter(s)")

    def _show(self, connection, task_id: str) -> None:
        for letter in dlq.peek(connection, limit=dlq.PEEK_LIMIT):
            if letter.task_id == task_id:
                self.stdout.write(_json(letter, indent=2))
                return
        raise CommandError(f"no dead letter with task id {task_id}")

    def _replay(
        self,
        connection,
        *,
        task_ids: list[str],
        all: bool,
        task: str | None,
        reason: str | None,
        **_: object,
    ) -> None:
        if not task_ids and not all and task is None and reason is None:
            raise CommandError("name task ids, or use --all (optionally with --task/--reason)")
        if task_ids:
            chosen: set[str] | None = set(task_ids)
        elif task is None and reason is None:
            chosen = None  # --all: every dead letter, also those without a Celery task id
        else:
            letters = self._matching(dlq.peek(connection, limit=dlq.PEEK_LIMIT), task, reason)
            chosen = {letter.task_id for letter in letters}
        replayed = dlq.replay(connection, chosen)
        self.stdout.write(f"replayed {len(replayed)} dead letter(s)")
        missing = set(task_ids) - set(replayed)
        if missing:
            raise CommandError(f"not found in dlq_queue: {', '.join(sorted(missing))}")


def _json(letter: dlq.DeadLetter, indent: int | None = None) -> str:
    return json.dumps(letter.__dict__, ensure_ascii=False, default=str, indent=indent)
