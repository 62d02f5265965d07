"""A worker thread that decodes the frames next to the playhead into the frame cache.

Forward, it keeps the ``window`` frames after the playhead decoded, continuing the consumer's
own decoder when that one is on the way (after a landing it stands on the landed frame, so the
next frames cost one decode each, not a second decode of the group from its keyframe), else its
own. Backward, it back-fills the ``back`` frames before the playhead, whether the player steps
back or is paused: decoding can only run forward from a keyframe, so it decodes from the
keyframe before the missing frames and keeps only those in the span (bounded memory), and the
first and every later step back is a cache hit, whatever the keyframe interval. The direction
of the last step goes first; a job that no longer serves the playhead (the next request moved
it) is dropped after the frame being decoded.

Threading: ``follow()`` and ``stop()`` are called from any thread; the worker owns its decoder
(a ``VideoCursor`` nobody else touches), borrows the consumer's one only under the consumer's
lock, one frame at a time and never while the consumer waits for it, and shares the
thread-safe ``FrameCache``. ``stop()`` joins the thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from iamedic_desktop.core.priority import lower_this_thread
from iamedic_desktop.media.frame_cache import FrameCache
from iamedic_desktop.media.video_cursor import VideoCursor
from iamedic_desktop.media.video_index import VideoIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Borrowed:
    """The consumer's decoder, lent to the worker: its lock, the cursor, and whether it waits."""

    lock: threading.Lock
    cursor: Callable[[], VideoCursor | None]
    waiting: Callable[[], bool]


class ReadAhead:
    """Decodes ``window`` frames ahead of the playhead and ``back`` behind it into ``cache``."""

    def __init__(
        self,
        path: Path,
        index: VideoIndex,
        cache: FrameCache,
        *,
        window: int,
        back: int | None = None,
        borrowed: Borrowed | None = None,
    ) -> None:
        self._path = path
        self._index = index
        self._cache = cache
        self._window = window
        self._back = window if back is None else back
        self._borrowed = borrowed
        self._cond = threading.Condition()
        self._playhead: tuple[int, int] | None = None  # frame, direction (+1 / -1)
        self._generation = 0
        self._done = -1  # the last generation whose spans were found full
        self._stopped = False
        self.frames_decoded = 0  # frames this worker put in the cache
        self._thread = threading.Thread(
            target=self._run, name=f"iamedic-readahead:{path.name}", daemon=True
        )

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the worker thread is running."""
        return self._thread.is_alive()

    def follow(self, playhead: int, direction: int) -> None:
        """The playhead is at ``playhead`` moving in ``direction`` (+1 forward, -1 back)."""
        with self._cond:
            self._playhead = (playhead, 1 if direction >= 0 else -1)
            self._generation += 1
            self._cond.notify()

    def stop(self) -> None:
        """End the worker after its current frame; returns once the thread has ended."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    # -- planning ---------------------------------------------------------------------------
    def _spans(self, playhead: int, direction: int) -> list[tuple[range, bool]]:
        """The spans to keep decoded, most urgent first, each with whether it is forward."""
        count = self._index.frame_count
        forward = range(playhead + 1, min(playhead + 1 + self._window, count))
        back = range(max(playhead - self._back, 0), playhead)
        return (
            [(forward, True), (back, False)] if direction > 0 else [(back, False), (forward, True)]
        )

    def _next_job(self) -> tuple[int, int, bool] | None:
        """The next frames to decode (first, last, forward), or None once stopped."""
        with self._cond:
            while not self._stopped:
                if self._playhead is not None and self._done != self._generation:
                    for span, forward in self._spans(*self._playhead):
                        missing = self._cache.missing(span)
                        if missing:
                            return missing[0], missing[-1], forward
                    self._done = self._generation
                self._cond.wait()
            return None

    def _useful(self, first: int, last: int, pos: int, forward: bool) -> bool:
        """Whether decoding on from ``pos`` towards ``last`` still serves the playhead first."""
        with self._cond:
            if self._stopped or self._playhead is None:
                return False
            spans = self._spans(*self._playhead)
        lo = max(pos + 1, first)
        for span, span_forward in spans:
            if span_forward == forward:
                return lo <= last and max(lo, span.start) <= min(last, span.stop - 1)
            if self._cache.missing(span):
                return False  # the direction the playhead now moves in comes first
        return False

    # -- worker thread ----------------------------------------------------------------------
    def _run(self) -> None:
        lower_this_thread()  # filling ahead yields to the window (its decoder threads too)
        own: VideoCursor | None = None
        try:
            while True:
                job = self._next_job()
                if job is None:
                    return
                first, last, forward = job
                if forward and self._borrowed is not None and self._fill_borrowed(*job):
                    continue
                if own is None:
                    own = VideoCursor(self._path, self._index)
                self._fill(own, first, last, forward)
        except Exception as exc:  # the consumer decodes on its own; read-ahead is a bonus
            log.warning("⚠️ Read-ahead of %s stopped: %s", self._path.name, exc)
        finally:
            if own is not None:
                own.close()

    def _fill(self, cursor: VideoCursor, first: int, last: int, forward: bool) -> None:
        """Decode ``first``..``last`` on the worker's own decoder, caching the missing ones."""
        cursor.seek(first)
        while True:
            pos = cursor.pos
            if pos is None or pos > last:
                return
            if pos >= first and pos not in self._cache:
                self._cache.put(pos, cursor.retrieve())
                self.frames_decoded += 1
            if pos >= last or not self._useful(first, last, pos, forward):
                return
            cursor.advance()

    def _fill_borrowed(self, first: int, last: int, forward: bool) -> bool:
        """Decode on from the consumer's decoder, one frame per turn; False if it is elsewhere.

        Used only while that decoder stands shortly before ``first``, so every frame of the job
        passes it (the worker never loops on frames it cannot reach).
        """
        borrowed = self._borrowed
        assert borrowed is not None
        at = first - 1  # where the consumer's decoder must stand for the next turn
        while True:
            with self._cond:
                if self._stopped:
                    return True
            # The consumer asked for a frame: it goes first. It may also hold its lock while it
            # stops this worker, hence a bounded wait and the check above.
            if borrowed.waiting() or not borrowed.lock.acquire(timeout=0.005):
                time.sleep(0.001)
                continue
            try:
                cursor = borrowed.cursor()
                pos = None if cursor is None else cursor.pos
                if cursor is None or pos is None or not first - self._window <= pos <= at:
                    return at >= first  # moved by the consumer: the next job plans again
                if not self._useful(first, last, pos, forward):
                    return True
                pos = cursor.advance()
                if pos is None:
                    return True
                if pos >= first and pos not in self._cache:
                    self._cache.put(pos, cursor.retrieve())
                    self.frames_decoded += 1
            finally:
                borrowed.lock.release()
            at = pos
            if pos >= last:
                return True
