"""Still names and timestamps: a negative zero is zero (``--at -0`` names ``_0.000s_``)."""

from __future__ import annotations

import math
import re
import uuid

import pytest

from iamedic_desktop.services.frame_records import still_filename
from iamedic_desktop.services.media_rules import round_timestamp


@pytest.mark.parametrize("seconds", [-0.0, -0.0004])
def test_a_negative_zero_names_zero(seconds: float) -> None:
    video = uuid.UUID(int=7)
    name = still_filename(video, seconds)
    assert re.fullmatch(rf"frame_{video}_0\.000s_[0-9a-f]{{8}}\.jpg", name), name


def test_a_negative_zero_is_stored_as_zero() -> None:
    stored = round_timestamp(-0.0)
    assert stored == 0.0 and math.copysign(1.0, stored) == 1.0
    assert f"{round_timestamp(-0.0):.3f}" == "0.000"
