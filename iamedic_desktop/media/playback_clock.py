"""Which frame is due now: a playback clock that never drifts, for any frame rate and speed.

The clock is anchored at a position and a monotonic time; the due position is always computed
from that anchor (``anchor + (now - t0) * rate * speed``), never by adding frame periods, so
late ticks and timer jitter never accumulate. A constant-rate source counts in frames
(``frame = start + floor((now - t0) * fps * speed)``); a variable-rate one, given its frame
timestamps, counts in seconds and looks the frame up. A loop range wraps; without one the
clock stops at the last frame. Each tick reports how many due frames it passed over.

Threading: plain Python, no clock of its own (the caller passes ``now``); one owner at a time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SPEED = 0.25
MAX_SPEED = 4.0
_EPS = 1e-9  # a position exactly on a frame boundary belongs to the later frame


@dataclass(frozen=True)
class Tick:
    """What a tick of the clock found: the due frame and what happened since the last tick."""

    frame: int
    changed: bool  # a different frame is due than at the last tick
    skipped: int  # frames that fell due and passed before any tick saw them
    finished: bool  # the last frame is due and no loop wraps: playback ends


class PlaybackClock:
    """The frame due at a monotonic time, for ``fps`` x ``speed``, with an optional loop range.

    ``timestamps`` (seconds per frame, increasing) make the clock follow a variable frame
    rate; without them frame *n* is due at ``n / fps``.
    """

    def __init__(
        self, frame_count: int, fps: float, timestamps: Sequence[float] | None = None
    ) -> None:
        if frame_count < 1:
            raise ValueError("A clock needs at least one frame.")
        if fps <= 0 and frame_count > 1 and not timestamps:
            raise ValueError("A clock needs a frame rate or timestamps.")
        self._count = frame_count
        self._fps = fps if fps > 0 else 1.0
        self._times: list[float] | None = None
        if timestamps is not None and frame_count > 1 and not _uniform(timestamps, self._fps):
            if len(timestamps) != frame_count:
                raise ValueError("One timestamp per frame is needed.")
            self._times = [float(t) for t in timestamps]
        self._speed = 1.0
        self._loop: tuple[int, int] | None = None
        self._running = False
        self._t0 = 0.0
        self._anchor = 0.0  # position (frames, or seconds when timestamps) at t0
        self._last_frame = 0
        self._last_ordinal = 0  # frames counted from the anchor, loops unrolled
        self._passed = 0  # frames advanced since the last tick reported
        self._finished = False
        self._reported = 0  # the frame the last tick reported

    # -- settings -------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        """Frames the clock counts over."""
        return self._count

    @property
    def speed(self) -> float:
        """Playback speed factor (1.0: the media's own rate)."""
        return self._speed

    @property
    def loop(self) -> tuple[int, int] | None:
        """The inclusive frame range that repeats, or None."""
        return self._loop

    @property
    def running(self) -> bool:
        """Whether the clock was started and has not stopped."""
        return self._running

    @property
    def is_variable_rate(self) -> bool:
        """Whether the clock follows the frames' own timestamps."""
        return self._times is not None

    def set_speed(self, speed: float, now: float) -> None:
        """Play at ``speed`` (clamped to 0.25x-4x) from the position due at ``now``."""
        speed = min(MAX_SPEED, max(MIN_SPEED, float(speed)))
        if self._running:
            self._reanchor(now)
        self._speed = speed

    def set_loop(self, start: int | None, end: int | None, now: float) -> None:
        """Repeat frames ``start``..``end`` (inclusive); both None: no loop."""
        if self._running:
            self._advance(now)  # where the old loop had got to
        if start is None and end is None:
            self._loop = None
        else:
            first = self._clamp(0 if start is None else start)
            last = self._clamp(self._count - 1 if end is None else end)
            self._loop = (min(first, last), max(first, last))
        if self._running:
            # Go on from the frame shown (or the loop's start when outside the loop).
            passed, reported = self._passed, self._reported
            self.start(self._last_frame, now)
            self._passed, self._reported = passed, reported

    # -- running --------------------------------------------------------------------------
    def start(self, frame: int, now: float) -> None:
        """Start counting from ``frame`` (its beginning) at monotonic time ``now``."""
        frame = self._clamp(frame)
        if self._loop is not None and not self._loop[0] <= frame <= self._loop[1]:
            frame = self._loop[0]
        self._t0 = now
        self._anchor = self._position_of(frame)
        self._last_frame = self._reported = frame
        self._last_ordinal = self._passed = 0
        self._finished = False
        self._running = True

    def stop(self) -> None:
        """Stop counting (``tick`` then reports the last frame it found)."""
        self._running = False

    def tick(self, now: float) -> Tick:
        """The frame due at ``now`` and the frames passed over since the previous tick."""
        if self._running:
            self._advance(now)
        frame, passed, finished = self._last_frame, self._passed, self._finished
        self._passed, self._finished = 0, False
        changed = passed > 0 or frame != self._reported
        self._reported = frame
        return Tick(frame, changed, max(0, passed - 1), finished)

    def _advance(self, now: float) -> None:
        """Move to the frame due at ``now``, counting the frames passed since the anchor."""
        position = self._anchor + (now - self._t0) * self._speed * self._rate()
        if self._loop is None:
            if position >= self._end_position(self._count - 1):
                position = self._position_of(self._count - 1)
                self._finished = True
                self._running = False
            frame = self._frame_at(position)
            ordinal = frame - self._frame_at(self._anchor)
        else:
            first, last = self._loop
            start = self._position_of(first)
            span = self._end_position(last) - start
            offset = position - start
            cycles = math.floor(offset / span + _EPS)
            frame = min(max(self._frame_at(start + (offset - cycles * span)), first), last)
            anchor_frame = min(max(self._frame_at(self._anchor), first), last)
            ordinal = cycles * (last - first + 1) + frame - anchor_frame
        if ordinal > self._last_ordinal:
            self._passed += ordinal - self._last_ordinal
            self._last_ordinal = ordinal
        self._last_frame = frame

    # -- positions ------------------------------------------------------------------------
    def _rate(self) -> float:
        """Position units per second of media: frames, or seconds for a variable rate."""
        return 1.0 if self._times is not None else self._fps

    def _position_of(self, frame: int) -> float:
        return self._times[frame] if self._times is not None else float(frame)

    def _end_position(self, frame: int) -> float:
        """Where ``frame`` stops being shown."""
        if self._times is None:
            return frame + 1.0
        if frame + 1 < self._count:
            return self._times[frame + 1]
        return self._times[frame] + 1.0 / self._fps

    def _frame_at(self, position: float) -> int:
        if self._times is None:
            frame = math.floor(position + _EPS)
        else:
            frame = bisect.bisect_right(self._times, position + _EPS) - 1
        return self._clamp(frame)

    def _clamp(self, frame: int) -> int:
        return min(max(int(frame), 0), self._count - 1)

    def _reanchor(self, now: float) -> None:
        """Keep the current position (fraction of a frame included) as the new anchor."""
        self._advance(now)
        if not self._running:
            return
        position = self._anchor + (now - self._t0) * self._speed * self._rate()
        if self._loop is not None:
            first, _ = self._loop
            start = self._position_of(first)
            span = self._end_position(self._loop[1]) - start
            position = start + (position - start) % span
        lower, upper = self._position_of(self._last_frame), self._end_position(self._last_frame)
        self._anchor = min(max(position, lower), upper - 1e-6)
        self._t0 = now
        self._last_ordinal = 0


def _uniform(timestamps: Sequence[float], fps: float) -> bool:
    """Whether ``timestamps`` are n / fps (within a quarter frame): constant rate."""
    tolerance = 0.25 / fps
    start = float(timestamps[0])
    return all(abs(float(t) - start - n / fps) <= tolerance for n, t in enumerate(timestamps))
