import json
import statistics
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.ocr import engine


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Read every image listed in DIR/labels.json ({filename: plate}) and report accuracy and latency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--json", action="store_true", dest="as_json", help="one JSON object instead of the table")

    def handle(self, *args: object, directory: Path, as_json: bool, **options: object) -> None:
        try:
            labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{directory}/labels.json: {error}") from error
        if not isinstance(labels, dict) or not labels:
            raise CommandError("labels.json must be a non-empty object {filename: plate}")
        reader = engine.load()
        exact, characters, total_characters, latencies, misses = 0, 0.0, 0, [], []
        for name, expected in sorted(labels.items()):
            data = (directory / name).read_bytes()
            started = time.perf_counter()
            read = reader.read(data)
            latencies.append((time.perf_counter() - started) * 1000)
            got = read.text or ""
            exact += got == expected
            # Per-character accuracy: 1 - edit distance / length, floored at 0.
            characters += max(0.0, len(expected) - _levenshtein(got, expected))
            total_characters += len(expected)
            if got != expected:
                misses.append((name, expected, read.text))
        result = {
            "images": len(labels),
            "exact_match": round(exact / len(labels), 4),
            "character_accuracy": round(characters / total_characters, 4),
            "latency_ms": {
                "p50": round(_percentile(latencies, 0.5), 1),
                "p95": round(_percentile(latencies, 0.95), 1),
                "p99": round(_percentile(latencies, 0.99), 1),
                "mean": round(statistics.fmean(latencies), 1),
            },
        }
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"images              {result['images']}")
        self.stdout.write(f"exact match         {result['exact_match']:.1%}")
        self.stdout.write(f"character accuracy  {result['character_accuracy']:.1%}")
        latency = result["latency_ms"]
        self.stdout.write(f"latency ms          p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}")
        for name, expected, got in misses[:20]:
            self.stdout.write(f"  miss {name}: expected {expected}, read {got or '-'}")


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
