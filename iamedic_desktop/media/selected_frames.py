"""Chosen frames of a source in one forward pass, converting only those chosen to RGB.

Extraction of every Nth frame must decode every frame (inter-coded video), but turning a decoded
picture into RGB costs about as much again, so on a video only the chosen frames are retrieved:
a ``VideoCursor`` on the source's own index decodes every frame and retrieves the chosen ones.
It does so in a thread of its own (``decode_thread.py``), a few chosen frames ahead of the
caller, so decoding goes on while the caller encodes and stores a still.
Any other source, and a video whose index proves wrong (the cursor raises), goes through the
source's ``iter_frames``, which rebuilds the index and stays exact.

Threading: the iterator belongs to the thread that made it, and ``tick`` is called on that
thread; the decoding thread ends when the iteration ends, is closed or stops on ``tick``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from iamedic_desktop.media.frame_source import FrameSource, RGBFrame

log = logging.getLogger(__name__)


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
        from iamedic_desktop.media.decode_thread import DecodeThread
        from iamedic_desktop.media.video_cursor import IndexMismatchError

        ticked = first - 1  # the last frame ``tick`` was called for
        decoder = DecodeThread(path, source.index, first, last, wanted=wanted)
        try:
            for upto, pixels, _ in decoder.items():
                for n in range(max(ticked + 1, first), upto + 1):
                    if not go_on(n):
                        return
                ticked = max(ticked, upto)
                if pixels is not None:
                    yield upto, pixels
                    first = upto + 1  # where the slow path would resume
                if upto >= last:
                    return
            return
        except IndexMismatchError as exc:
            log.warning("⚠️ %s; reading the rest frame by frame", exc)
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
