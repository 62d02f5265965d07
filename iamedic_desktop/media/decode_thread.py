"""A thread that decodes a range of a video in order and hands the frames to the caller's thread.

Decoding runs on while the caller works on the frame before: the caller's thread turns frames
into RGB or greyscale (``iter_frames``: decoder threads are fed packets meanwhile, so neither
waits for the other) or encodes and stores stills (``iter_selected``: its file and database
waits leave a core idle). At most ``ahead`` hand-overs wait between the two (bounded memory).
A decoder that runs on one core (a light stream whose every frame the caller converts:
``video_cursor.decoder_threads``) hands its frames over in batches: one hand-over costs both
threads a wake-up and a turn of the interpreter's lock, a sixth of such a 720p frame's decode.
A frame-threaded decoder hands over each frame (batches measured slower there: its output
comes in bursts already).

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

HANDOVER_BYTES = 64 * 1024 * 1024  # decoded pictures waiting between the threads, at most


def batch_for(width: int, height: int, ahead: int) -> int:
    """Frames per hand-over from a decoder on one core (at most 16; 1 on 4K).

    ``ahead`` batches may wait, so their decoded (4:2:0) pictures stay within
    ``HANDOVER_BYTES``: with 4, 12 frames a batch on 720p and 5 on 1080p.
    """
    picture = width * height * 3 // 2
    return max(1, min(16, HANDOVER_BYTES // (max(ahead, 1) * max(picture, 1))))


class DecodeThread:
    """Decodes ``first``..``last`` of ``path``; hands over the frames of ``wanted`` (None: all).

    ``rgb``: the payload is the frame's RGB pixels (made in the decoding thread); otherwise it
    is the decoded frame itself, for ``video_cursor.to_pixels`` in the caller's thread, and
    the decoder leaves that conversion a core (``video_cursor.decoder_threads``).
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
        self._ahead = ahead
        self._batch = 1  # frames per hand-over; set once the decoder is open
        self._pending: list[Item] = []  # the decoding thread's batch being filled
        self._queue: queue.Queue[list[Item]] = queue.Queue(maxsize=ahead)
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"iamedic-decode:{path.name}", daemon=True
        )
        self._thread.start()

    def items(self) -> Iterator[Item]:
        """The decoded positions, in order, until the last one or an error (then raised)."""
        while True:
            for upto, payload, error in self._queue.get():
                if error is not None:
                    raise error
                yield upto, payload, None
                if upto >= self._last:
                    return

    @property
    def batch(self) -> int:
        """Frames per hand-over (1 until the decoder is open)."""
        return self._batch

    @property
    def alive(self) -> bool:
        """Whether the decoding thread still runs."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """End the thread (it may be waiting for room) and wait for it."""
        self._stopped.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, item: Item, *, last: bool = False) -> bool:
        """Hand ``item`` over (with its batch when full or ``last``) unless stopped.

        False once stopped.
        """
        self._pending.append(item)
        if not last and len(self._pending) < self._batch:
            return not self._stopped.is_set()
        items, self._pending = self._pending, []
        while not self._stopped.is_set():
            try:
                self._queue.put(items, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        from iamedic_desktop.media.video_cursor import IndexMismatchError, VideoCursor

        pos = self._first - 1
        try:
            cursor = VideoCursor(self._path, self._index, beside_conversion=not self._rgb)
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._put((pos, None, exc), last=True)
            return
        if cursor.single_threaded:
            self._batch = batch_for(self._index.width, self._index.height, self._ahead)
        try:
            cursor.seek(self._first)
            noted = pos
            while cursor.pos is not None:
                pos = cursor.pos
                if pos >= self._first:
                    ending = pos >= self._last
                    if self._wanted is None or pos in self._wanted:
                        payload = cursor.retrieve() if self._rgb else cursor.decoded()
                        if not self._put((pos, payload, None), last=ending):
                            return
                        noted = pos
                    elif pos - noted >= PROGRESS_EVERY or ending:
                        if not self._put((pos, None, None), last=ending):
                            return
                        noted = pos
                if pos >= self._last or self._stopped.is_set():
                    return
                if cursor.advance() is None:
                    self._put((self._last, None, None), last=True)
                    return
            raise IndexMismatchError(f"Frame {self._first} could not be found by its timestamp.")
        except BaseException as exc:
            self._put((pos, None, exc), last=True)
        finally:
            cursor.close()
