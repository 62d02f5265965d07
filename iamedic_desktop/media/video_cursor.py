"""A decoding position in a video that knows, by presentation timestamp, which frame it is on.

OpenCV decodes (its FFmpeg gives the same pixels as the ffmpeg command, rotation applied once
by ``CAP_PROP_ORIENTATION_AUTO``), but its seeking works in frame numbers guessed from the
frame rate: on a variable-frame-rate file it lands on a neighbour, and its frame count trusts
the header. So every decoded frame is identified by its timestamp (``CAP_PROP_POS_MSEC``)
against the video index, a seek is only asked to land *before* the target and the rest is
decoded forward, and sequential decoding checks that each frame is the one after the last.
A stream without timestamps is never sought: it is decoded from its start, counting.

Threading: a cursor belongs to one thread at a time (its owner serialises calls).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.frame_source import RGBFrame
from iamedic_desktop.media.video_index import VideoIndex

log = logging.getLogger(__name__)

_SEEK_OVERHEAD_FRAMES = 3  # decoding this many frames costs about one OpenCV seek
_OPENCV_SEEK_BACK = 16  # OpenCV seeks this many frames before the frame asked for


class IndexMismatchError(InvalidInputError):
    """The decoder produced a frame the index does not expect: the index must be rebuilt."""


class VideoCursor:
    """One OpenCV decoder over ``path`` and the index of the frame it last decoded."""

    def __init__(self, path: Path, index: VideoIndex) -> None:
        self._path = path
        self._index = index
        self._capture: Any = None
        self._bgr: Any = None  # OpenCV's output buffer, reused frame after frame
        self.pos: int | None = -1  # the frame grabbed last; -1 before the first, None lost
        self._ms0 = 0.0
        self._cv_fps = 0.0
        self._first_number = 0
        ms = index.seconds * 1000.0
        self._ms = ms
        self._tolerance_ms = max(1e-3, min(0.45 * index.min_gap_seconds() * 1000.0, 20.0))
        self.frames_decoded = 0  # grabs, for diagnostics and benchmarks
        self.seeks = 0  # OpenCV seeks asked for
        self.missed_seeks = 0  # seeks that landed past the target (then tried earlier)
        self.rewinds = 0  # restarts from the first frame
        self._rewind()

    # -- opening ---------------------------------------------------------------------------
    def _rewind(self) -> None:
        """Open the decoder afresh at the first frame (a clean state, cheaper than a seek)."""
        import cv2

        self.close()
        self.rewinds += 1
        # As many decoding threads as ffmpeg's own default (cores + 1): with OpenCV's default
        # (cores) the colour conversion on this thread leaves a core partly idle.
        threads = (os.cpu_count() or 1) + 1
        capture = cv2.VideoCapture(
            str(self._path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads]
        )
        if not capture.isOpened():
            raise InvalidInputError(f"'{self._path.name}' could not be decoded.")
        # The index's size is the displayed one; OpenCV turns the picture exactly once.
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        self._capture = capture
        self.pos = -1
        if not capture.grab():
            raise InvalidInputError(f"'{self._path.name}' has no decodable video frames.")
        self.frames_decoded += 1
        self._ms0 = capture.get(cv2.CAP_PROP_POS_MSEC)
        self._cv_fps = capture.get(cv2.CAP_PROP_FPS) or self._index.fps
        self._first_number = int(self._cv_fps * self._ms0 / 1000.0 + 0.5)
        self.pos = 0

    def close(self) -> None:
        """Release the decoder."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    # -- stepping ---------------------------------------------------------------------------
    def advance(self) -> int | None:
        """Decode the next frame (no colour conversion yet); its index, or None at the end."""
        import cv2

        capture = self._capture
        if capture is None:
            raise InvalidInputError(f"'{self._path.name}' is closed.")
        previous = self.pos
        if not capture.grab():
            if previous is not None and previous < self._index.frame_count - 1:
                raise IndexMismatchError(
                    f"'{self._path.name}' ended after frame {previous}, before its last frame."
                )
            return None
        self.frames_decoded += 1
        if not self._index.seekable:
            self.pos = (previous if previous is not None else -1) + 1
            return self.pos
        found = self._identify(capture.get(cv2.CAP_PROP_POS_MSEC))
        if previous is not None and found != previous + 1:
            raise IndexMismatchError(
                f"'{self._path.name}': frame {found} followed frame {previous}; "
                "its index needs rebuilding."
            )
        self.pos = found
        return found

    def retrieve(self) -> RGBFrame:
        """The RGB pixels of the frame decoded last (a new array)."""
        import cv2

        capture = self._capture
        # Into the same BGR buffer every time: a fresh 2.7 MB intermediate per 720p frame,
        # freed at once, lets malloc hand the memory back and fault it in again next frame
        # (measured: 1,300 page faults and 4 ms of system time per frame).
        ok, bgr = capture.retrieve(self._bgr)
        if not ok or bgr is None:
            raise InvalidInputError(f"Frame {self.pos} of '{self._path.name}' could not be read.")
        expected = (self._index.height, self._index.width, 3)
        if bgr.shape != expected:
            raise InvalidInputError(
                f"Frame {self.pos} of '{self._path.name}' is {bgr.shape[1]}x{bgr.shape[0]}, "
                f"not {expected[1]}x{expected[0]} as the file declares."
            )
        self._bgr = bgr
        rgb: RGBFrame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return rgb

    def _identify(self, ms: float) -> int:
        """The index of the frame whose timestamp OpenCV reports as ``ms``."""
        rel = ms - self._ms0
        i = int(np.searchsorted(self._ms, rel))
        best = None
        for j in (i - 1, i):
            if 0 <= j < self._ms.shape[0] and abs(self._ms[j] - rel) <= self._tolerance_ms:
                best = j
        if best is None:
            raise IndexMismatchError(
                f"'{self._path.name}': a decoded frame at {rel:.3f} ms matches no indexed frame."
            )
        return best

    # -- positioning ------------------------------------------------------------------------
    def seek(self, n: int, behind: int = 0) -> None:
        """Decode up to a frame at or before ``n`` (ideally ``n - behind``); ``pos`` says which.

        Afterwards ``pos <= n`` and the frame at ``pos`` is decoded and can be retrieved.
        """
        index = self._index
        key = index.keyframe_of(n)
        pos = self.pos
        if pos is not None and pos <= n:
            if pos >= key - 1 or not index.seekable:
                return  # the decoder is already on the way: forward is cheapest
            # OpenCV's seek starts decoding at the keyframe about 16 frames before its target.
            start = index.keyframe_of(max(n - _OPENCV_SEEK_BACK, 0))
            if n - pos <= (n - start) + _SEEK_OVERHEAD_FRAMES:
                return
        if not index.seekable:
            self._rewind()
            return
        landing = max(key, n - behind)
        for attempt in (landing, index.keyframe_of(max(key - 1, 0))):
            if attempt <= 1:
                break
            self._seek_opencv(attempt)
            if self.pos is not None and self.pos <= n:
                return
            self.missed_seeks += 1
        self._rewind()

    def _number(self, i: int) -> int:
        """OpenCV's own number for frame ``i``: round(seconds * fps) from the first frame."""
        return int(self._cv_fps * (self._ms0 + self._ms[i]) / 1000.0 + 0.5) - self._first_number

    def _seek_opencv(self, landing: int) -> None:
        """Ask OpenCV to stop at or before the frame before ``landing``; decode one more."""
        import cv2

        # OpenCV's seek(g) jumps to the keyframe K before about (g - 16) / fps, then decodes
        # g - 1 - number(K) frames more, counting frames (not times). Whichever of the nearby
        # keyframes it picks, the smallest g of theirs never decodes past ``landing``.
        index = self._index
        candidates = {index.keyframe_of(landing)}
        for _ in range(2):
            candidates.add(index.keyframe_of(max(min(candidates) - 1, 0)))
        g = min(self._number(k) + (landing - k) for k in candidates)
        self.seeks += 1
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, max(g, 0))
        self.pos = None
        try:
            self.advance()
        except IndexMismatchError as exc:
            log.debug("seek to %d in %s failed: %s", landing, self._path.name, exc)
            self.pos = None
