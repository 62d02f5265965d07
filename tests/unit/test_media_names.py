"""Readable names of stills: the time as a clinician reads it and the frame shown then."""

from __future__ import annotations

import pytest

from iamedic_desktop.services.media_names import (
    format_still_time,
    frame_index_at,
    still_display_name,
)


def test_a_still_reads_as_its_time_and_frame() -> None:
    assert still_display_name(0.167, 5) == "Still at 0:00.167 (frame 5)"
    assert still_display_name(75.5, None) == "Still at 1:15.500"
    assert format_still_time(3725.041) == "1:02:05.041"
    assert format_still_time(59.9996) == "1:00.000"  # rounded first: never 0:60.000


@pytest.mark.parametrize(
    ("seconds", "fps", "count", "index"),
    [
        (0.167, 30.0, None, 5),  # 5/30 = 0.1667, stored rounded up
        (0.333, 30.0, None, 10),  # 10/30 = 0.3333, stored rounded down: still frame 10
        (0.18, 30.0, None, 5),  # a time between frames shows the earlier one
        (0.0, 25.0, 50, 0),
        (9.0, 25.0, 50, 49),  # past the end: the last frame
        (1.0, None, 50, None),  # no frame timing: no index
        (1.0, 0.0, 50, None),
    ],
)
def test_the_frame_index_comes_from_the_timestamp(
    seconds: float, fps: float | None, count: int | None, index: int | None
) -> None:
    assert frame_index_at(seconds, fps, count) == index
