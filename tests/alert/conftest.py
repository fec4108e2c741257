from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.processes import Pipeline
from harness.services import FcmEmulator


@pytest.fixture
def fcm(pipeline: Pipeline) -> Iterator[FcmEmulator]:
    """The FCM emulator, answering promptly and without errors unless a test says otherwise."""
    pipeline.services.fcm.reset()
    yield pipeline.services.fcm
    pipeline.services.fcm.configure(latency_ms=0, rules=[])
