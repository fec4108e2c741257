"""ocr_eval's arithmetic: coverage against precision, the suggested threshold, and the
confusion pairs matching relies on (pure logic)."""

from __future__ import annotations

import pytest

from backend.ocr.management.commands.ocr_eval import Result, at_threshold, confusions, suggested_threshold

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


def result(expected: str, read: str | None, confidence: float) -> Result:
    return Result(name="x.png", group="all", expected=expected, read=read, confidence=confidence, ms=1.0)


RESULTS = [
    result("12가3456", "12가3456", 0.99),
    result("12가3456", "12가3456", 0.97),
    result("34나5678", "34나5678", 0.80),
    result("56다7890", "56다7390", 0.70),  # misread, 3 for 8
    result("78라1234", None, 0.0),  # nothing valid read
]


def test_coverage_precision_and_misreads_without_review() -> None:
    assert at_threshold(RESULTS, 0.0) == {
        "threshold": 0.0,
        "coverage": 0.8,
        "precision": 0.75,
        "misread_without_review": 0.2,
    }
    assert at_threshold(RESULTS, 0.75) == {
        "threshold": 0.75,
        "coverage": 0.6,
        "precision": 1.0,
        "misread_without_review": 0.0,
    }


def test_the_suggested_threshold_is_the_lowest_that_keeps_precision() -> None:
    assert suggested_threshold(RESULTS) == 0.71


def test_confusion_pairs_come_from_same_length_misreads() -> None:
    more = [*RESULTS, result("11가2828", "11가2323", 0.5), result("9가1234", "99가1234", 0.9)]
    assert confusions(more, min_count=2) == [{"read": "3", "truth": "8", "count": 3}]
    assert {"read": "3", "truth": "8", "count": 3} in confusions(more, min_count=1)


def test_figures_name_the_set_by_the_command_that_wrote_it(tmp_path) -> None:
    from backend.ocr.management.commands.ocr_eval import measured_on

    assert measured_on(tmp_path) == tmp_path.name  # a set written some other way: its name
    (tmp_path / "set.json").write_text('{"command": "python -m backend.ocr.plate_model heldout --seed 4049"}')
    assert measured_on(tmp_path) == "python -m backend.ocr.plate_model heldout --seed 4049"
