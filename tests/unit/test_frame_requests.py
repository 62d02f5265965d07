"""The player's request bookkeeping: stale results are never painted, drops are counted."""

from __future__ import annotations

from iamedic_desktop.ui.frame_requests import FrameRequests


def test_a_jump_makes_every_older_result_stale() -> None:
    book = FrameRequests()
    seqs = [book.ask(n, playing=False, due=0.0) for n in range(50)]
    assert not book.answered(seqs[3], 0.1)  # the worker was busy with an early one
    assert book.answered(seqs[-1], 0.2)  # only the newest is painted
    assert book.idle
    assert not book.answered(seqs[10], 0.3)  # already replaced: unknown now
    assert book.dropped_frames == 0  # jumps are not dropped frames


def test_late_playback_frames_are_shown_and_replaced_ones_counted() -> None:
    book = FrameRequests()
    first = book.ask(10, playing=True, due=1.0)
    second = book.ask(11, playing=True, due=1.04)
    third = book.ask(12, playing=True, due=1.08)
    book.fell_due(0)
    book.fell_due(0)
    book.fell_due(0)
    assert book.answered(first, 1.05)  # late, still painted: playback moves on
    assert book.answered(third, 1.09)  # the worker skipped 11: replaced before decoding
    assert not book.answered(second, 1.1)
    assert (book.frames_due, book.frames_shown, book.dropped_frames) == (3, 2, 1)
    assert [round(v, 3) for v in book.latencies] == [0.05, 0.01]


def test_frames_the_clock_passed_over_are_dropped() -> None:
    book = FrameRequests()
    book.fell_due(2)
    assert (book.frames_due, book.dropped_frames, book.passed_over) == (3, 2, 2)
    book.reset_stats()
    assert (book.frames_due, book.dropped_frames) == (0, 0)


def test_a_failure_is_reported_only_for_the_newest_jump() -> None:
    book = FrameRequests()
    old = book.ask(1, playing=False, due=0.0)
    new = book.ask(2, playing=False, due=0.0)
    assert not book.failed(old)
    assert book.failed(new)
    book.ask(3, playing=False, due=0.0)
    book.forget()
    assert book.idle
