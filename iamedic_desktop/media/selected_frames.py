"""Chosen frames of a source in one forward pass, converting only those chosen to RGB.

Extraction of every Nth frame must decode every frame (inter-coded video), but turning a decoded
picture into RGB costs about as much again, so on a video only the chosen frames are retrieved:
a ``VideoCursor`` on the source's own index decodes every frame and retrieves the chosen ones.
It does so in a thread of its own, a few chosen frames ahead of the caller, so decoding goes on
while the caller encodes and stores a still (its file and database waits leave a core idle).
Any other source, and a video whose index proves wrong (the cursor raises), goes through the
source's ``iter_frames``, which rebuilds the index and stays exact.

Threading: the iterator belongs to the thread that made it, and ``tick`` is called on that
thread; the decoding thread ends when the iteration ends, is closed or stops on ``tick``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from iamedic_desktop.media.frame_source import FrameSource, RGBFrame
from iamedic_desktop.media.video_index import VideoIndex

log = logging.getLogger(__name__)

_AHEAD = 3  # chosen frames decoded ahead of the caller (bounded memory)
_PROGRESS_EVERY = 16  # frames between progress notes when none is chosen

# What the decoding thread hands over: (last frame decoded, its pixels if chosen, error).
_Item = tuple[int, RGBFrame | None, BaseException | None]


def iter_selected(
    source: FrameSource,
    path: Path,
    indices: Sequence[int],
    tick: Callable[[int], bool] | None = None,
) -> Iterator[tuple[int, RGBFrame]]:
    """Frames ``indices`` (sorted, unique, in range) of ``source`` (opened on ``path``), in order.

    ``tick(n)`` is called for each frame ``n`` decoded, chosen or not, in order (progress);
    when it returns False the iteration stops there (cancel).
    """
    if not indices:
        return
    go_on = tick or (lambda _: True)
    wanted = set(indices)
    first, last = indices[0], indices[-1]
    from iamedic_desktop.media.video_source import VideoFrameSource

    if isinstance(source, VideoFrameSource):
        from iamedic_desktop.media.video_cursor import IndexMismatchError

        ticked = first - 1  # the last frame ``tick`` was called for
        decoder = _Decoder(path, source.index, wanted, first, last)
        try:
            for upto, pixels, error in decoder.items():
                for n in range(max(ticked + 1, first), upto + 1):
                    if not go_on(n):
                        return
                ticked = max(ticked, upto)
                if error is not None:
                    if not isinstance(error, IndexMismatchError):
                        raise error
                    log.warning("⚠️ %s; reading the rest frame by frame", error)
                    break
                if pixels is not None:
                    yield upto, pixels
                    first = upto + 1  # where the slow path would resume
                if upto >= last:
                    return
            else:
                return
        finally:
            decoder.stop()
        wanted = {n for n in wanted if n >= first}
        go_on = _skipping(go_on, ticked)
    frames = source.iter_frames(first, last + 1)
    try:
        for n, pixels in frames:
            if not go_on(n):
                return
            if n in wanted:
                yield n, pixels
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _skipping(tick: Callable[[int], bool], done: int) -> Callable[[int], bool]:
    """``tick`` for frames after ``done`` only (those up to it were reported already)."""
    return lambda n: True if n <= done else tick(n)


class _Decoder:
    """A thread decoding ``first``..``last`` in order and handing over the chosen frames."""

    def __init__(
        self, path: Path, index: VideoIndex, wanted: set[int], first: int, last: int
    ) -> None:
        self._path, self._index = path, index
        self._wanted, self._first, self._last = wanted, first, last
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=_AHEAD)
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"iamedic-extract:{path.name}", daemon=True
        )
        self._thread.start()

    def items(self) -> Iterator[_Item]:
        """The decoded positions, in order, until the last one or an error."""
        while True:
            item = self._queue.get()
            yield item
            upto, _, error = item
            if error is not None or upto >= self._last:
                return

    def stop(self) -> None:
        """End the thread (it may be waiting for room) and wait for it."""
        self._stopped.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, item: _Item) -> bool:
        """Hand ``item`` over unless stopped; False once stopped."""
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        from iamedic_desktop.media.video_cursor import VideoCursor

        pos = self._first - 1
        try:
            cursor = VideoCursor(self._path, self._index)
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._put((pos, None, exc))
            return
        try:
            cursor.seek(self._first)
            noted = pos
            while cursor.pos is not None:
                pos = cursor.pos
                if pos >= self._first:
                    if pos in self._wanted:
                        if not self._put((pos, cursor.retrieve(), None)):
                            return
                        noted = pos
                    elif pos - noted >= _PROGRESS_EVERY or pos >= self._last:
                        if not self._put((pos, None, None)):
                            return
                        noted = pos
                if pos >= self._last or self._stopped.is_set():
                    return
                if cursor.advance() is None:
                    self._put((self._last, None, None))
                    return
        except BaseException as exc:
            self._put((pos, None, exc))
        finally:
            cursor.close()
