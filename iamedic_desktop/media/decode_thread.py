"""A thread that decodes a range of a video in order and hands the frames to the caller's thread.

Decoding runs on while the caller works on the frame before: the caller's thread turns frames
into RGB or greyscale (``iter_frames``: decoder threads are fed packets meanwhile, so neither
waits for the other) or encodes and stores stills (``iter_selected``: its file and database
waits leave a core idle). At most ``ahead`` frames wait between the two (bounded memory).

Threading: made, iterated and stopped by one thread (the caller's); the decoding thread owns its
``VideoCursor``. An error in the decoding thread is handed over and raised by ``items()`` in the
caller's thread. ``stop()`` ends the thread (also while it waits for room) and joins it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from iamedic_desktop.media.video_index import VideoIndex

PROGRESS_EVERY = 16  # frames between notes when none is handed over (progress, cancel)

# What the decoding thread hands over: (last frame decoded, payload or None, error or None).
Item = tuple[int, Any, BaseException | None]


class DecodeThread:
    """Decodes ``first``..``last`` of ``path``; hands over the frames of ``wanted`` (None: all).

    ``rgb``: the payload is the frame's RGB pixels (made in the decoding thread); otherwise it
    is the decoded frame itself, for ``video_cursor.to_pixels`` in the caller's thread.
    """

    def __init__(
        self,
        path: Path,
        index: VideoIndex,
        first: int,
        last: int,
        *,
        wanted: set[int] | None = None,
        rgb: bool = True,
        ahead: int = 3,
    ) -> None:
        self._path, self._index = path, index
        self._first, self._last = first, last
        self._wanted, self._rgb = wanted, rgb
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=ahead)
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"iamedic-decode:{path.name}", daemon=True
        )
        self._thread.start()

    def items(self) -> Iterator[Item]:
        """The decoded positions, in order, until the last one or an error (then raised)."""
        while True:
            upto, payload, error = self._queue.get()
            if error is not None:
                raise error
            yield upto, payload, None
            if upto >= self._last:
                return

    def stop(self) -> None:
        """End the thread (it may be waiting for room) and wait for it."""
        self._stopped.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, item: Item) -> bool:
        """Hand ``item`` over unless stopped; False once stopped."""
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        from iamedic_desktop.media.video_cursor import IndexMismatchError, VideoCursor

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
                    if self._wanted is None or pos in self._wanted:
                        payload = cursor.retrieve() if self._rgb else cursor.decoded()
                        if not self._put((pos, payload, None)):
                            return
                        noted = pos
                    elif pos - noted >= PROGRESS_EVERY or pos >= self._last:
                        if not self._put((pos, None, None)):
                            return
                        noted = pos
                if pos >= self._last or self._stopped.is_set():
                    return
                if cursor.advance() is None:
                    self._put((self._last, None, None))
                    return
            raise IndexMismatchError(f"Frame {self._first} could not be found by its timestamp.")
        except BaseException as exc:
            self._put((pos, None, exc))
        finally:
            cursor.close()
