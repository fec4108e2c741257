import json
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.ocr import engine
from backend.ocr.plate_model import HELD_OUT_SET_FILE

THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99)
TARGET_PRECISION = 0.995  # of reads above the review threshold, at most 0.5 % may be wrong
LAYOUT_NAME = re.compile(r"^(?P<layout>.+)-(?P<kind>crop|scene)-\d+\.\w+$")


@dataclass(frozen=True)
class Result:
    name: str
    group: str
    expected: str
    read: str | None
    confidence: float
    ms: float

    @property
    def correct(self) -> bool:
        return self.read == self.expected


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def at_threshold(results: list[Result], threshold: float) -> dict:
    """Reads at or above `threshold` go on without review: how many, and how many are wrong."""
    passed = [r for r in results if r.read and r.confidence >= threshold]
    wrong = sum(not r.correct for r in passed)
    return {
        "threshold": threshold,
        "coverage": round(len(passed) / len(results), 4),
        "precision": round(1 - wrong / len(passed), 4) if passed else 1.0,
        "misread_without_review": round(wrong / len(results), 4),
    }


def suggested_threshold(results: list[Result]) -> float:
    """The lowest threshold (0.01 steps) at and above which precision holds the target."""
    grid = [i / 100 for i in range(100)]
    for index, threshold in enumerate(grid):
        if all(at_threshold(results, t)["precision"] >= TARGET_PRECISION for t in grid[index:]):
            return threshold
    return 0.99


def confusions(results: list[Result], min_count: int) -> list[dict]:
    """Substitutions in same-length misreads: (read, truth) pairs seen at least min_count times."""
    counts: Counter[tuple[str, str]] = Counter()
    for result in results:
        if result.read and not result.correct and len(result.read) == len(result.expected):
            for got, truth in zip(result.read, result.expected, strict=True):
                if got != truth:
                    counts[(got, truth)] += 1
    return [{"read": a, "truth": b, "count": n} for (a, b), n in counts.most_common() if n >= min_count]


def measured_on(directory: Path) -> str:
    """The set a figure was measured on, as anyone can write it again: the command in its
    set.json (written by `plate_model heldout`), else the directory's name."""
    try:
        return str(json.loads((directory / HELD_OUT_SET_FILE).read_text(encoding="utf-8"))["command"])
    except (OSError, ValueError, KeyError, TypeError):
        return directory.name


class Command(BaseCommand):
    help = (
        "Read every image listed in DIR/labels.json ({filename: plate}) with the worker's engine; report exact "
        "match per layout (from file names such as white-7-crop-0001.png), coverage against precision at several "
        "review thresholds, the threshold that keeps precision at 99.5 %, and latency."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--json", action="store_true", dest="as_json", help="one JSON object instead of the table")
        parser.add_argument(
            "--confusions", type=Path, dest="confusions_file", help="write the measured confusion pairs here (JSON)"
        )
        parser.add_argument("--min-count", type=int, default=2, help="times a pair must be seen to count (default 2)")

    def handle(
        self,
        *args: object,
        directory: Path,
        as_json: bool,
        confusions_file: Path | None,
        min_count: int,
        **options: object,
    ) -> None:
        try:
            labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{directory}/labels.json: {error}") from error
        if not isinstance(labels, dict) or not labels:
            raise CommandError("labels.json must be a non-empty object {filename: plate}")
        reader = engine.load()
        results: list[Result] = []
        for name, expected in sorted(labels.items()):
            try:
                data = (directory / name).read_bytes()
            except OSError as error:
                raise CommandError(f"cannot read {directory / name}: {error}") from error
            started = time.perf_counter()
            read = reader.read(data)
            elapsed = (time.perf_counter() - started) * 1000
            named = LAYOUT_NAME.match(name)
            group = f"{named['layout']} {named['kind']}s" if named else "all"
            results.append(Result(name, group, expected, read.text, read.confidence or 0.0, elapsed))
        report = self._report(results)
        if confusions_file is not None:
            pairs = confusions(results, min_count)
            confusions_file.write_text(
                json.dumps(
                    {
                        "measured_on": measured_on(directory),
                        "images": len(results),
                        "date": date.today().isoformat(),
                        "min_count": min_count,
                        "pairs": pairs,
                    },
                    ensure_ascii=False,
                    indent=1,
                ),
                encoding="utf-8",
            )
            report["confusion_pairs"] = len(pairs)
        if as_json:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        self._print(report, results)

    def _report(self, results: list[Result]) -> dict:
        groups: dict[str, list[Result]] = defaultdict(list)
        for result in results:
            groups[result.group].append(result)
        characters = sum(max(0, len(r.expected) - _levenshtein(r.read or "", r.expected)) for r in results)
        latencies = [r.ms for r in results]
        return {
            "images": len(results),
            "exact_match": round(sum(r.correct for r in results) / len(results), 4),
            "character_accuracy": round(characters / sum(len(r.expected) for r in results), 4),
            "groups": {
                name: {"images": len(items), "exact_match": round(sum(r.correct for r in items) / len(items), 4)}
                for name, items in sorted(groups.items())
            },
            "thresholds": [at_threshold(results, t) for t in THRESHOLDS],
            "review_confidence": at_threshold(results, settings.OCR_REVIEW_CONFIDENCE),
            "suggested_review_confidence": suggested_threshold(results),
            "latency_ms": {
                "p50": round(_percentile(latencies, 0.5), 1),
                "p95": round(_percentile(latencies, 0.95), 1),
                "p99": round(_percentile(latencies, 0.99), 1),
                "mean": round(statistics.fmean(latencies), 1),
            },
        }

    def _print(self, report: dict, results: list[Result]) -> None:
        write = self.stdout.write
        write(f"images              {report['images']}")
        write(f"exact match         {report['exact_match']:.1%}")
        write(f"character accuracy  {report['character_accuracy']:.1%}")
        latency = report["latency_ms"]
        write(f"latency ms          p50 {latency['p50']}  p95 {latency['p95']}  p99 {latency['p99']}")
        write("")
        write(f"{'layout':<26}{'images':>8}{'exact':>9}")
        for name, group in report["groups"].items():
            write(f"{name:<26}{group['images']:>8}{group['exact_match']:>9.1%}")
        write("")
        write(f"{'review below':<14}{'coverage':>10}{'precision':>11}{'misread, no review':>20}")
        for row in report["thresholds"]:
            write(
                f"{row['threshold']:<14.2f}{row['coverage']:>10.1%}{row['precision']:>11.2%}"
                f"{row['misread_without_review']:>20.2%}"
            )
        configured = report["review_confidence"]
        write(
            f"configured OCR_REVIEW_CONFIDENCE={configured['threshold']:.2f}: coverage {configured['coverage']:.1%}, "
            f"precision {configured['precision']:.2%}, "
            f"misread without review {configured['misread_without_review']:.2%}"
        )
        write(
            f"lowest threshold keeping precision >= {TARGET_PRECISION:.1%} on this set: "
            f"{report['suggested_review_confidence']:.2f}"
        )
        if "confusion_pairs" in report:
            write(f"confusion pairs written: {report['confusion_pairs']}")
        for result in [r for r in results if not r.correct][:20]:
            write(
                f"  miss {result.name}: expected {result.expected}, read {result.read or '-'} ({result.confidence:.2f})"
            )


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
