import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.ocr import engine
from backend.ocr.services import judge_read


class Command(BaseCommand):
    help = (
        "Read the plate in each image with exactly the OCR worker's engine, and decide as the worker "
        "would (registered vehicle, review); one line per image."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("images", nargs="+", type=Path)
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help='{"file", "plate", "confidence", "bbox", "ms", "needs_review", "review_reason"} per line',
        )

    def handle(self, *args: object, images: list[Path], as_json: bool, **options: object) -> None:
        reader = engine.load()
        for path in images:
            try:
                data = path.read_bytes()
            except OSError as error:
                raise CommandError(f"cannot read {path}: {error}") from error
            started = time.perf_counter()
            read = reader.read(data)
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            try:
                verdict = judge_read(read)  # matching asks the vehicle registry, as the worker does
            except Exception as error:
                raise CommandError(f"cannot reach the vehicle registry to decide on review: {error}") from error
            if as_json:
                line = json.dumps(
                    {
                        "file": str(path),
                        "plate": read.text,
                        "confidence": round(read.confidence, 4) if read.confidence is not None else None,
                        "bbox": list(read.bbox) if read.bbox else None,
                        "ms": elapsed_ms,
                        "needs_review": verdict.review_reason is not None,
                        "review_reason": verdict.review_reason,
                    },
                    ensure_ascii=False,
                )
            else:
                confidence = f"{read.confidence:.3f}" if read.confidence is not None else "-"
                box = list(read.bbox) if read.bbox else "-"
                decision = f"review: {verdict.review_reason}" if verdict.review_reason else "ok"
                line = f"{path}\t{read.text or '-'}\t{confidence}\t{box}\t{elapsed_ms} ms\t{decision}"
            self.stdout.write(line)
