"""Chosen frames of a source in one forward pass, converting only those chosen to RGB.

Extraction of every Nth frame must decode every frame (inter-coded video), but turning a decoded
picture into RGB costs about as much again, so on a video only the chosen frames are retrieved:
a ``VideoCursor`` on the source's own index grabs every frame and retrieves the chosen ones.
Any other source, and a video whose index proves wrong (the cursor raises), goes through the
source's ``iter_frames``, which rebuilds the index and stays exact.

Threading: the iterator belongs to the thread that made it; it opens a decoder of its own.
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

    ``tick(n)`` is called as each frame ``n`` is decoded, chosen or not (progress); when it
    returns False the iteration stops there (cancel).
    """
    if not indices:
        return
    go_on = tick or (lambda _: True)
    wanted = set(indices)
    first, last = indices[0], indices[-1]
    from iamedic_desktop.media.video_source import VideoFrameSource

    if isinstance(source, VideoFrameSource):
        from iamedic_desktop.media.video_cursor import IndexMismatchError, VideoCursor

        cursor = VideoCursor(path, source.index)
        try:
            cursor.seek(first)
            while cursor.pos is not None:
                pos = cursor.pos
                if pos >= first and not go_on(pos):
                    return
                if pos in wanted:
                    yield pos, cursor.retrieve()
                    first = pos + 1  # where the slow path would resume
                if pos >= last or cursor.advance() is None:
                    return
        except IndexMismatchError as exc:
            log.warning("⚠️ %s; reading the rest frame by frame", exc)
        finally:
            cursor.close()
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
