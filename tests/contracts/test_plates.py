"""Plate numbers: every format on the road is valid, anything else is not (pure logic)."""

from __future__ import annotations

import pytest

from backend.contracts.plates import REGIONS, normalise_plate

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


@pytest.mark.parametrize(
    "text",
    ["12가3456", "123가4567", "서울12가3456", "부산98배7654", "12하3456", "99허9999", "77호1234", "12배3456"],
)
def test_every_plate_format_in_use_is_valid(text: str) -> None:
    assert normalise_plate(text) == text


def test_spaces_and_punctuation_are_dropped() -> None:
    assert normalise_plate(" 서울 12 가-3456 ") == "서울12가3456"


@pytest.mark.parametrize(
    "text",
    ["", "1가3456", "1234가5678", "12가345", "12A3456", "12갸3456", "서울123가4567", "평양12가3456", "12가34567"],
)
def test_anything_else_is_refused(text: str) -> None:
    assert normalise_plate(text) is None


def test_sixteen_regions() -> None:
    assert len(set(REGIONS)) == 16 and all(len(region) == 2 for region in REGIONS)
