"""The views of a plate line and their vote (pure logic: no model)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.ocr.voting import LINE_VIEWS, line_views, vote

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


def test_the_first_view_is_the_line_as_cut_and_each_view_keeps_it_a_line() -> None:
    line = np.full((32, 150), 200, np.uint8)
    views = line_views(line, len(LINE_VIEWS))
    assert views[0] is line
    assert len(views) == len(LINE_VIEWS)
    for view in views:
        assert view.dtype == np.uint8 and view.ndim == 2
        assert 0.8 < view.shape[0] / line.shape[0] < 1.2 and 0.9 < view.shape[1] / line.shape[1] < 1.1
    assert line_views(line, 1) == [line]


def test_a_tiny_line_is_never_cut_away() -> None:
    line = np.full((6, 30), 200, np.uint8)
    assert all(view.size for view in line_views(line, len(LINE_VIEWS)))


def test_unanimous_views_keep_their_confidence() -> None:
    assert vote([[("12가3456", 0.96)], [("12가3456", 0.98)]]) == ("12가3456", pytest.approx(0.97))


def test_a_read_only_one_view_makes_is_doubtful_however_sure_that_view_was() -> None:
    reads = [[("12바3456", 0.99)], [("12사3456", 0.7)], [("12사3456", 0.8)], [(None, 0.9)]]
    plate, confidence = vote(reads)
    assert plate == "12사3456"
    assert confidence == pytest.approx(0.375)  # (0.7 + 0.8) / 4: below any review threshold


def test_views_that_read_no_valid_plate_vote_for_nothing() -> None:
    assert vote([[(None, 0.99)], [(None, 0.5)]]) is None
    assert vote([]) is None
