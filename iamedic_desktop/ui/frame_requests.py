"""Bookkeeping of the frames the player asked its worker for: stale results and drop counts.

Every request gets a sequence number. A jump (seek, step) raises a barrier: results of older
requests are stale and never painted. During playback, requests do not raise it, so a frame
that arrives a little late is still shown; but one worker serves requests in order, so when
a result arrives every older request still listed was replaced before it was decoded, and a
replaced playback frame is a dropped frame. Plain Python; used on the UI thread only.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class _Request:
    frame: int
    playing: bool
    due: float  # monotonic time the frame fell due (or was asked for)


class FrameRequests:
    """Sequence numbers, the stale barrier and the playback counters of one player."""

    def __init__(self) -> None:
        self._seqs = itertools.count(1)
        self._barrier = 0
        self._outstanding: dict[int, _Request] = {}
        self.frames_due = 0  # frames that fell due while playing
        self.frames_shown = 0  # of those, frames delivered to the screen
        self.dropped_frames = 0  # of those, frames passed over or replaced
        self.passed_over = 0  # dropped because no tick came while they were due (UI late)
        self.latencies: deque[float] = deque(maxlen=100_000)  # seconds from due to delivered

    @property
    def idle(self) -> bool:
        """Whether every request has been answered or dropped."""
        return not self._outstanding

    def ask(self, frame: int, *, playing: bool, due: float) -> int:
        """Record a request; its sequence number. A request not ``playing`` is a jump."""
        seq = next(self._seqs)
        if not playing:
            self._barrier = seq
        self._outstanding[seq] = _Request(frame, playing, due)
        return seq

    def fell_due(self, skipped: int) -> None:
        """Playback: one frame fell due after ``skipped`` that no tick saw (dropped)."""
        self.frames_due += 1 + skipped
        self.dropped_frames += skipped
        self.passed_over += skipped

    def answered(self, seq: int, now: float) -> bool:
        """A result for ``seq`` arrived: whether to paint it (False: stale or unknown)."""
        request = self._outstanding.pop(seq, None)
        if request is None:
            return False
        for older in [s for s in self._outstanding if s < seq]:
            replaced = self._outstanding.pop(older)
            if replaced.playing and request.playing:
                self.dropped_frames += 1
        if seq < self._barrier:
            return False
        if request.playing:
            self.frames_shown += 1
            self.latencies.append(now - request.due)
        return True

    def failed(self, seq: int) -> bool:
        """A request failed: whether the failure concerns the newest jump (report it)."""
        return self._outstanding.pop(seq, None) is not None and seq >= self._barrier

    def forget(self) -> None:
        """Drop every outstanding request (the media is closing)."""
        self._outstanding.clear()

    def reset_stats(self) -> None:
        """Zero the playback counters."""
        self.frames_due = self.frames_shown = self.dropped_frames = self.passed_over = 0
        self.latencies.clear()
