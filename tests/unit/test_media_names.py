"""Readable names of stills, and where a still sits in its video: the frame shown at its time."""

from __future__ import annotations

import numpy as np
import pytest

from iamedic_desktop.services.frame_timing import UNKNOWN_TIMING, FrameTiming, frame_index
from iamedic_desktop.services.media_names import format_still_time, still_display_name


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
        (1.68, 25.0, 50, 42),  # the web's "7th still" at 1.68 s is frame 42
        (0.0, 25.0, 50, 0),
        (-0.0004, 25.0, 50, 0),
        (9.0, 25.0, 50, 49),  # past the end: the last frame
        (1.0, None, 50, None),  # no frame timing: no index
        (1.0, 0.0, 50, None),
        (float("nan"), 25.0, 50, None),
    ],
)
def test_a_constant_rate_places_a_still_by_its_timestamp(
    seconds: float, fps: float | None, count: int | None, index: int | None
) -> None:
    assert frame_index(seconds, FrameTiming(fps=fps, frame_count=count)) == index


def test_frame_times_place_a_still_as_the_player_does() -> None:
    times = np.array([0.0, 0.04, 0.2, 0.2333333, 0.5])  # a variable rate
    timing = FrameTiming(fps=10.0, times=times)  # the times win over the average rate
    found = [frame_index(t, timing) for t in (0.0, 0.1, 0.2, 0.233, 0.234, 0.49, 7.0)]
    assert found == [0, 1, 2, 3, 3, 3, 4]  # 0.233 is frame 3's time kept to the millisecond


def test_an_average_rate_alone_rounds_and_nothing_known_gives_no_index() -> None:
    estimated = FrameTiming(fps=25.0, frame_count=50, estimated=True)
    assert [frame_index(t, estimated) for t in (0.019, 0.021, 1.68, 9.0)] == [0, 1, 42, 49]
    assert frame_index(1.68, UNKNOWN_TIMING) is None
