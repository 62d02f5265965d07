"""The playback clock: which frame is due, with a fake monotonic time (no Qt, no sleeping)."""

from __future__ import annotations

import random

import pytest

from iamedic_desktop.media.playback_clock import PlaybackClock


def test_frames_fall_due_at_the_media_rate() -> None:
    clock = PlaybackClock(100, 25.0)
    clock.start(0, now=1000.0)
    assert clock.tick(1000.0).frame == 0
    assert clock.tick(1000.039).frame == 0
    assert clock.tick(1000.040).frame == 1
    assert clock.tick(1001.0).frame == 25


def test_starts_from_any_frame() -> None:
    clock = PlaybackClock(100, 30.0)
    clock.start(40, now=5.0)
    assert clock.tick(5.0).frame == 40
    assert clock.tick(6.0).frame == 70


def test_never_drifts_over_an_hour_of_jittery_ticks() -> None:
    fps = 29.97
    clock = PlaybackClock(200_000, fps)
    clock.start(0, now=0.0)
    rng = random.Random(4)
    now = 0.0
    seen = 0
    while now < 3600.0:
        now += rng.uniform(0.001, 0.012)  # a timer that fires late, early, irregularly
        tick = clock.tick(now)
        if tick.changed:
            seen += 1 + tick.skipped
    assert tick.frame == int(now * fps)  # exactly where the wall clock says
    assert seen == tick.frame  # every frame counted once: shown or reported skipped


def test_a_late_tick_reports_the_frames_it_passed_over() -> None:
    clock = PlaybackClock(100, 25.0)
    clock.start(10, now=0.0)
    tick = clock.tick(0.041)
    assert (tick.frame, tick.changed, tick.skipped) == (11, True, 0)
    tick = clock.tick(0.2)  # frames 12..14 were due and never seen
    assert (tick.frame, tick.changed, tick.skipped) == (15, True, 3)
    tick = clock.tick(0.201)
    assert (tick.frame, tick.changed, tick.skipped) == (15, False, 0)


def test_speed_scales_the_rate_and_keeps_the_position() -> None:
    clock = PlaybackClock(1000, 10.0)
    clock.start(0, now=0.0)
    assert clock.tick(1.0).frame == 10
    clock.set_speed(2.0, now=1.05)  # half-way through frame 10
    assert clock.tick(1.05).frame == 10
    assert clock.tick(1.075).frame == 11  # 0.5 frame left at 20 frames/s
    assert clock.tick(2.075).frame == 31
    clock.set_speed(0.25, now=2.075)
    assert clock.tick(2.075 + 4.0).frame == 41
    clock.set_speed(10.0, now=0.0)
    assert clock.speed == 4.0
    clock.set_speed(0.01, now=0.0)
    assert clock.speed == 0.25


def test_stops_on_the_last_frame_without_a_loop() -> None:
    clock = PlaybackClock(10, 10.0)
    clock.start(0, now=0.0)
    assert clock.tick(0.95).frame == 9
    tick = clock.tick(1.5)
    assert (tick.frame, tick.finished) == (9, True)
    assert not clock.running
    tick = clock.tick(3.0)
    assert (tick.frame, tick.changed, tick.finished) == (9, False, False)


def test_loop_range_wraps_and_counts_every_frame() -> None:
    clock = PlaybackClock(100, 10.0)
    clock.set_loop(20, 24, now=0.0)
    clock.start(22, now=0.0)
    frames = [clock.tick(k / 10 + 0.001).frame for k in range(12)]
    assert frames == [22, 23, 24, 20, 21, 22, 23, 24, 20, 21, 22, 23]
    tick = clock.tick(1.1 + 1.001)  # ten frames later: two whole loops, nothing seen
    assert (tick.frame, tick.skipped) == (23, 9)


def test_starting_outside_the_loop_starts_at_its_beginning() -> None:
    clock = PlaybackClock(100, 10.0)
    clock.set_loop(50, 60, now=0.0)
    clock.start(5, now=0.0)
    assert clock.tick(0.0).frame == 50


def test_setting_a_loop_while_playing_outside_it_jumps_into_it() -> None:
    clock = PlaybackClock(100, 10.0)
    clock.start(0, now=0.0)
    assert clock.tick(0.5).frame == 5
    clock.set_loop(30, 32, now=0.5)
    tick = clock.tick(0.5)
    assert (tick.frame, tick.changed, tick.skipped) == (30, True, 0)
    assert clock.tick(0.85).frame == 30  # 30, 31, 32, then 30 again
    clock.set_loop(None, None, now=0.9)
    assert clock.tick(1.9).frame > 32


def test_setting_a_loop_around_the_playhead_goes_on_from_it() -> None:
    clock = PlaybackClock(100, 10.0)
    clock.start(0, now=0.0)
    clock.set_loop(3, 8, now=0.45)
    assert clock.tick(0.45).frame == 4
    assert clock.tick(0.95).frame == 3  # 4,5,6,7,8 then wrap


def test_variable_frame_rate_follows_the_timestamps() -> None:
    times = [0.0, 0.1, 0.15, 0.4, 0.5, 0.9]
    clock = PlaybackClock(6, 10.0, timestamps=times)
    assert clock.is_variable_rate
    clock.start(0, now=10.0)
    assert [clock.tick(10.0 + t).frame for t in (0.05, 0.12, 0.2, 0.39, 0.41, 0.55, 0.95)] == [
        0,
        1,
        2,
        2,
        3,
        4,
        5,
    ]
    assert clock.tick(11.01).finished


def test_uniform_timestamps_count_in_frames() -> None:
    clock = PlaybackClock(50, 25.0, timestamps=[n / 25 + 0.5 for n in range(50)])
    assert not clock.is_variable_rate


def test_a_stopped_clock_reports_the_last_frame() -> None:
    clock = PlaybackClock(100, 25.0)
    clock.start(3, now=0.0)
    assert clock.tick(0.1).frame == 5
    clock.stop()
    tick = clock.tick(50.0)
    assert (tick.frame, tick.changed) == (5, False)


def test_a_clock_needs_frames_and_a_rate() -> None:
    with pytest.raises(ValueError):
        PlaybackClock(0, 25.0)
    with pytest.raises(ValueError):
        PlaybackClock(10, 0.0)
    assert PlaybackClock(1, 0.0).tick(5.0).frame == 0  # a still: one frame, never due again
