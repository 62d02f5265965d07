"""A decoding position in a video that knows, by presentation timestamp, which frame it is on.

PyAV decodes (the same libavcodec as the ffmpeg command, frame-threaded like it) and converts
each wanted frame once, straight to RGB (swscale, the same pixels as ``ffmpeg -pix_fmt rgb24``);
a rotated stream is turned afterwards, as the player shows it. Every decoded frame is identified
by its own presentation timestamp against the video index (exact integers in the stream's time
base), a seek goes by timestamp to the keyframe at or before the target (so landing on a
keyframe decodes one frame, not the group before it) and the rest is decoded forward, and
sequential decoding checks that each frame is the one after the last. A stream without
timestamps is never sought: it is decoded from its start, counting.

Threading: a cursor belongs to one thread at a time (its owner serialises calls).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.frame_source import PixelFormat, RGBFrame
from iamedic_desktop.media.video_index import VideoIndex

log = logging.getLogger(__name__)

# H.264 profiles without CABAC and B-frames (x264's ultrafast, many capture recorders): their
# frames decode so cheaply that frame threads cost more in synchronisation than they save.
_LIGHT_PROFILES = frozenset({"Baseline", "Constrained Baseline"})

# Decoding this many frames costs about what a seek does (the demuxer's jump, the decoder's
# flush and its frame threads filling again): nearer than this, decoding on is cheaper.
_SEEK_OVERHEAD_FRAMES = 3


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_FRAME_MEMORY_BYTES = 64 * 1024 * 1024
_frame_memory_kept = False
_libc: Any = None  # glibc, once its allocator is tuned for frames


def _keep_frame_memory() -> None:
    """Let glibc reuse freed frame buffers instead of unmapping and faulting them in again.

    Every RGB frame is a fresh buffer of megabytes: by default glibc maps each one on its own
    and unmaps it when freed, and the next frame page-faults all of it in again (measured on
    720p: 440 faults and about 1 ms of CPU per frame, a third of the decode). Buffers up to
    64 MB come from the heap instead, and the heap's top is handed back only beyond 64 MB
    free. Once per process; elsewhere than glibc nothing changes.
    """
    global _frame_memory_kept
    if _frame_memory_kept:
        return
    _frame_memory_kept = True
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    global _libc
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _FRAME_MEMORY_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _FRAME_MEMORY_BYTES)
        _libc = libc
    except (OSError, AttributeError) as exc:
        log.debug("mallopt unavailable: %s", exc)


def release_frame_memory() -> None:
    """Hand the freed frame buffers back to the system (a video closed: its cache is gone).

    Kept for reuse while a video is open, they would otherwise stay resident in every
    thread's heap after it closes.
    """
    if _libc is not None:
        _libc.malloc_trim(0)


class IndexMismatchError(InvalidInputError):
    """The decoder produced a frame the index does not expect: the index must be rebuilt."""


def _cores() -> int:
    """The cores this process may run on (its affinity, else the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def decoder_threads(stream: Any, *, beside_conversion: bool) -> tuple[str, int]:
    """The decoder's thread type and count (0: ffmpeg's own choice) for ``stream``.

    By default frame and slice threads, as many as the ffmpeg command takes: exact (a decoder's
    output does not depend on its threads) and as fast as it. A sequential decode whose every
    frame another thread converts (``beside_conversion``) leaves that thread a core: a light
    stream then decodes on one core less, with frame threads only beyond two cores (on two,
    measured on the 30-minute x264 ultrafast file: 1,966 against 1,767 frames/s, with less CPU).
    A stream with CABAC or B-frames keeps every thread: one core decodes it too slowly.
    """
    light = stream.codec_context.name == "h264" and stream.profile in _LIGHT_PROFILES
    if not (beside_conversion and light):
        return "AUTO", 0
    spare = _cores() - 1
    return ("FRAME", spare) if spare > 1 else ("NONE", 1)


class VideoCursor:
    """One PyAV decoder over ``path`` and the index of the frame it last decoded.

    ``beside_conversion``: another thread converts every frame this cursor decodes (a whole
    sequential pass), so the decoder leaves it a core where that is faster (``decoder_threads``).
    """

    def __init__(self, path: Path, index: VideoIndex, *, beside_conversion: bool = False) -> None:
        _keep_frame_memory()
        self._path = path
        self._index = index
        self._beside_conversion = beside_conversion
        self.single_threaded = False  # whether the decoder runs on one thread (no frame threads)
        self._container: Any = None
        self._stream: Any = None
        self._packets: Iterator[Any] | None = None
        self._pending: deque[Any] = deque()  # decoded frames not handed out yet
        self._frame: Any = None  # the av.VideoFrame at ``pos``
        self._ended = False
        self.pos: int | None = -1  # the frame decoded last; -1 before the first, None lost
        self.frames_decoded = 0  # frames out of the decoder, for diagnostics and benchmarks
        self.seeks = 0  # seeks by timestamp
        self.missed_seeks = 0  # seeks that landed past the target (then tried earlier)
        self.rewinds = 0  # restarts from the first frame
        self._rewind(decode_first=False)  # the first call says where: often a seek

    # -- opening ---------------------------------------------------------------------------
    def _rewind(self, *, decode_first: bool = True) -> None:
        """Open the decoder afresh before the first frame (a clean state), and decode that."""
        import av

        self.close()
        self.rewinds += 1
        try:
            container = av.open(str(self._path), metadata_errors="ignore")
        except (av.FFmpegError, OSError) as exc:
            raise InvalidInputError(f"'{self._path.name}' could not be decoded.") from exc
        if not container.streams.video:
            container.close()
            raise InvalidInputError(f"'{self._path.name}' has no video stream.")
        stream = container.streams.video[0]
        kind, count = decoder_threads(stream, beside_conversion=self._beside_conversion)
        stream.thread_type = kind
        if count:
            stream.codec_context.thread_count = count
        self.single_threaded = kind == "NONE"
        self._container, self._stream = container, stream
        self._restart_packets()
        self.pos = -1
        if decode_first:
            self._decode_first()

    def _decode_first(self) -> None:
        """Decode the first frame of a decoder opened afresh (``pos`` -1)."""
        if self._next_frame() is None:
            raise InvalidInputError(f"'{self._path.name}' has no decodable video frames.")
        self.pos = 0

    def _restart_packets(self) -> None:
        self._packets = iter(self._container.demux(self._stream))
        self._pending.clear()
        self._frame = None
        self._ended = False

    def close(self) -> None:
        """Release the decoder."""
        if self._container is not None:
            self._pending.clear()
            self._frame = None
            self._packets = None
            self._container.close()
            self._container = None
            self._stream = None

    # -- stepping ---------------------------------------------------------------------------
    def _next_frame(self) -> Any:
        """The next decoded frame in presentation order, or None at the end of the stream."""
        import av

        while not self._pending:
            if self._ended or self._packets is None:
                return None
            try:
                packet = next(self._packets)
            except StopIteration:
                self._ended = True  # the demuxer's last, empty packet has drained the decoder
                return None
            except av.FFmpegError as exc:
                raise InvalidInputError(f"'{self._path.name}' could not be read: {exc}") from exc
            try:
                self._pending.extend(packet.decode())
            except av.InvalidDataError as exc:
                # Like the ffmpeg command: a damaged packet is skipped, decoding goes on.
                log.debug("skipping a damaged packet of %s: %s", self._path.name, exc)
        frame = self._pending.popleft()
        self._frame = frame
        self.frames_decoded += 1
        return frame

    def advance(self) -> int | None:
        """Decode the next frame (no colour conversion yet); its index, or None at the end."""
        if self._container is None:
            raise InvalidInputError(f"'{self._path.name}' is closed.")
        previous = self.pos
        if previous == -1:
            self._decode_first()
            return 0
        frame = self._next_frame()
        if frame is None:
            if previous is not None and previous < self._index.frame_count - 1:
                raise IndexMismatchError(
                    f"'{self._path.name}' ended after frame {previous}, before its last frame."
                )
            return None
        if not self._index.seekable:
            self.pos = (previous if previous is not None else -1) + 1
            return self.pos
        found = self._identify(frame.pts, previous + 1 if previous is not None else 0)
        if previous is not None and found != previous + 1:
            raise IndexMismatchError(
                f"'{self._path.name}': frame {found} followed frame {previous}; "
                "its index needs rebuilding."
            )
        self.pos = found
        return found

    def retrieve(self) -> RGBFrame:
        """The RGB pixels of the frame decoded last (a new array)."""
        if self._frame is None:
            raise InvalidInputError(f"Frame {self.pos} of '{self._path.name}' could not be read.")
        return to_rgb(self._frame, self._index, self._path, self.pos)

    def decoded(self) -> Any:
        """The frame decoded last, as the decoder gave it (for ``to_rgb`` on another thread)."""
        return self._frame

    def _identify(self, pts: int | None, expected: int = -1) -> int:
        """The index of the frame whose presentation timestamp is ``pts`` (``expected``, the
        frame after the last, is checked first: no search in the sequential case)."""
        index_pts = self._index.pts
        if pts is not None:
            if 0 <= expected < index_pts.shape[0] and index_pts[expected] == pts:
                return expected
            i = int(np.searchsorted(index_pts, pts))
            if i < index_pts.shape[0] and int(index_pts[i]) == pts:
                return i
        raise IndexMismatchError(
            f"'{self._path.name}': a decoded frame at pts {pts} matches no indexed frame."
        )

    # -- positioning ------------------------------------------------------------------------
    def seek(self, n: int, behind: int = 0) -> None:
        """Decode up to a frame at or before ``n``, from the keyframe ``n`` needs at the latest.

        Afterwards ``pos <= n`` and the frame at ``pos`` is decoded and can be retrieved.
        ``behind`` is accepted for the callers' sake: a seek always lands on the keyframe.
        """
        del behind
        index = self._index
        key = index.keyframe_of(n)
        pos = self.pos
        on_the_way = pos is not None and key - _SEEK_OVERHEAD_FRAMES <= pos <= n
        if on_the_way or (pos is not None and pos <= n and not index.seekable):
            if pos == -1:
                self._decode_first()
            return  # the decoder is already on the way: forward is cheapest
        if not index.seekable:
            self._rewind()
            return
        attempt = key
        for _ in range(3):
            self._seek_to(attempt)
            if self.pos is not None and self.pos <= n:
                return
            self.missed_seeks += 1
            if attempt == 0:
                break
            attempt = index.keyframe_of(attempt - 1)
        self._rewind()

    def _seek_to(self, key: int) -> None:
        """Jump to the keyframe at or before frame ``key`` and decode its first frame."""
        import av

        self.seeks += 1
        index = self._index
        k = int(np.searchsorted(index.key_pts, index.pts[key], side="right")) - 1
        target = int(index.key_pts[max(k, 0)]) if index.key_pts.size else int(index.pts[0])
        try:
            self._container.seek(target, backward=True, any_frame=False, stream=self._stream)
        except av.FFmpegError as exc:
            log.debug("seek to %d in %s failed: %s", key, self._path.name, exc)
            self.pos = None
            return
        self._restart_packets()
        self.pos = None
        try:
            while True:
                frame = self._next_frame()
                if frame is None:
                    return
                if frame.pts is None:
                    return
                found = self._identify(frame.pts)
                if found >= key:
                    self.pos = found
                    return
                # A leading picture of an open group refers to frames before the seek: never
                # handed out (its pixels may lack their references).
        except IndexMismatchError as exc:
            log.debug("seek to %d in %s failed: %s", key, self._path.name, exc)
            self.pos = None


def to_rgb(frame: Any, index: VideoIndex, path: Path, n: int | None) -> RGBFrame:
    """The RGB pixels of decoded ``frame`` (frame ``n`` of ``path``), turned as displayed."""
    return to_pixels(frame, index, path, n, "rgb24")


def to_pixels(
    frame: Any, index: VideoIndex, path: Path, n: int | None, pixel_format: PixelFormat
) -> RGBFrame:
    """Decoded ``frame`` as RGB (H x W x 3) or 8-bit greyscale (H x W), turned as displayed.

    ``"gray"`` is swscale's luma: the Y plane of a YUV picture mapped from limited to full
    range (no RGB is made: about half the CPU of ``"rgb24"``), which is what Pillow's RGB->L
    gives of the RGB to within a level wherever the RGB is not clipped (``frame_batches.py``).
    """
    # One thread: the decoder's frame threads already keep the other cores busy, and
    # swscale's own threads would only add their start and join to every frame.
    pixels = frame.to_ndarray(format=pixel_format, threads=1)
    if index.rotation:
        pixels = np.rot90(pixels, k=-(index.rotation // 90))  # the player turns it clockwise
    expected: tuple[int, ...] = (index.height, index.width)
    if pixel_format == "rgb24":
        expected += (3,)
    if pixels.shape != expected:
        raise InvalidInputError(
            f"Frame {n} of '{path.name}' is {pixels.shape[1]}x{pixels.shape[0]}, "
            f"not {expected[1]}x{expected[0]} as the file declares."
        )
    contiguous: RGBFrame = np.ascontiguousarray(pixels)  # a padded or turned picture is copied
    return contiguous
