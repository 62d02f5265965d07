"""A worker thread that decodes the frames next to the playhead into the frame cache.

Forward, it keeps the ``window`` frames after the playhead decoded, continuing its own decoder
sequentially (one frame per step of the playhead). Backward, decoding can only run forward from
a keyframe, so it decodes from the keyframe before the missing frames up to the playhead in one
pass (bounded by half the cache), and the next steps back are cache hits.

Threading: ``follow()`` and ``stop()`` are called from any thread; the worker owns its decoder
(a ``VideoCursor`` nobody else touches) and shares only the thread-safe ``FrameCache``. It
checks between frames whether its job is still useful, so a jump of the playhead or ``stop()``
takes effect after at most one frame (or one seek). ``stop()`` joins the thread.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from iamedic_desktop.media.frame_cache import FrameCache
from iamedic_desktop.media.video_cursor import VideoCursor
from iamedic_desktop.media.video_index import VideoIndex

log = logging.getLogger(__name__)


class ReadAhead:
    """Decodes ``window`` frames ahead of (or behind) the playhead into ``cache``."""

    def __init__(self, path: Path, index: VideoIndex, cache: FrameCache, *, window: int) -> None:
        self._path = path
        self._index = index
        self._cache = cache
        self._window = window
        frame_bytes = index.width * index.height * 3
        self._span_limit = max(window, cache.fits(frame_bytes) // 2)
        self._cond = threading.Condition()
        self._playhead: tuple[int, int] | None = None  # frame, direction (+1 / -1)
        self._generation = 0
        self._done = -1  # the last generation whose window was found full
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

    # -- worker thread ----------------------------------------------------------------------
    def _next_job(self) -> tuple[int, int] | None:
        """The next range of frames to decode (first, last), or None once stopped."""
        with self._cond:
            while not self._stopped:
                if self._playhead is not None and self._done != self._generation:
                    playhead, direction = self._playhead
                    count = self._index.frame_count
                    if direction > 0:
                        span = range(playhead + 1, min(playhead + 1 + self._window, count))
                    else:
                        span = range(max(playhead - self._window, 0), playhead)
                    missing = self._cache.missing(span)
                    if missing:
                        first, last = min(missing), max(missing)
                        if direction < 0:
                            # The decoder starts at a keyframe anyway: keep all it passes.
                            start = self._index.keyframe_of(first)
                            first = max(start, last - self._span_limit + 1)
                        return first, last
                    self._done = self._generation
                self._cond.wait()
            return None

    def _useful(self, first: int, last: int, pos: int) -> bool:
        """Whether decoding on from ``pos`` towards ``last`` still serves the playhead."""
        with self._cond:
            if self._stopped or self._playhead is None:
                return False
            playhead, direction = self._playhead
            if direction > 0:
                return first - self._window <= playhead < last
            return first < playhead <= last + self._window + 1 and pos < playhead

    def _run(self) -> None:
        cursor: VideoCursor | None = None
        try:
            while True:
                job = self._next_job()
                if job is None:
                    return
                first, last = job
                if cursor is None:
                    cursor = VideoCursor(self._path, self._index)
                cursor.seek(first)
                while True:
                    pos = cursor.pos
                    if pos is None or pos > last:
                        break
                    if pos >= first and pos not in self._cache:
                        self._cache.put(pos, cursor.retrieve())
                        self.frames_decoded += 1
                    if pos >= last or not self._useful(first, last, pos):
                        break
                    cursor.advance()
        except Exception as exc:  # the consumer decodes on its own; read-ahead is a bonus
            log.warning("⚠️ Read-ahead of %s stopped: %s", self._path.name, exc)
        finally:
            if cursor is not None:
                cursor.close()
