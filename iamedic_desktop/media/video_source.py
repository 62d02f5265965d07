"""Frame-exact random access to a video file, with a decoded-frame cache and read-ahead.

Frame *n* is found through the video index (every frame's presentation timestamp, counted from
the packets), decoded from the keyframe before it by a ``VideoCursor`` that identifies every
decoded frame by its timestamp, and kept in a ``FrameCache`` bounded in bytes. The frames decoded
on the way to the target, up to the read-ahead window before it, are kept too, so the first step
back after a landing is a cache hit. A read-ahead worker keeps the frames after the playhead
decoded (continuing this decoder when it stands there) and back-fills the span before it with a
decoder of its own, so later steps back are cache hits too (``readahead.py``).

Threading: ``frame()`` may be called from any thread (calls are serialised on one decoder)
while the read-ahead worker runs; the worker uses its own decoder, borrows this one only under
its lock and never while a ``frame()`` call waits for it, and shares the thread-safe cache.
``iter_frames()`` uses a private decoder per iteration, in a thread of its own (ended with the
iteration). ``close()`` stops the worker and waits for it. Returned frames are shared with the
cache and read-only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.decode_thread import DecodeThread
from iamedic_desktop.media.frame_cache import FrameCache
from iamedic_desktop.media.frame_source import PIXEL_FORMATS, PixelFormat, RGBFrame
from iamedic_desktop.media.readahead import Borrowed, ReadAhead
from iamedic_desktop.media.video_cursor import (
    IndexMismatchError,
    VideoCursor,
    release_frame_memory,
    to_pixels,
)
from iamedic_desktop.media.video_index import (
    VideoIndex,
    build_index_by_decoding,
    file_cache_key,
    load_video_index,
    write_cached,
)

log = logging.getLogger(__name__)

_MB = 1024 * 1024


class VideoFrameSource:
    """A FrameSource over one video file: exact frames by index, cached around the playhead.

    ``cache_mb`` bounds the decoded frames kept; ``readahead`` frames are decoded ahead of the
    playhead (0: none). The index is kept in ``index_cache_dir`` (default: the settings' cache
    folder) unless ``cache_index`` is False.
    """

    def __init__(
        self,
        path: Path,
        *,
        cache_mb: int = 512,
        readahead: int = 24,
        index_cache_dir: Path | None = None,
        cache_index: bool = True,
    ) -> None:
        self._path = Path(path)
        if cache_index and index_cache_dir is None:
            from iamedic_desktop.core.settings import get_settings

            index_cache_dir = get_settings().cache_dir
        self._index_cache_dir = index_cache_dir if cache_index else None
        self._index = load_video_index(self._path, self._index_cache_dir)
        self._cache = FrameCache(cache_mb * _MB)
        frame_bytes = self._index.width * self._index.height * 3
        # Read-ahead and back-fill never fill more than half the cache together, so they cannot
        # evict the playhead; back-fill gets up to four windows, as memory allows.
        half = self._cache.fits(frame_bytes) // 2
        self._readahead = max(0, min(readahead, half))
        self._backfill = max(self._readahead, min(4 * self._readahead, half - self._readahead))
        self._waiting = 0  # frame() calls waiting for the decoder (the worker lets them go first)
        self._lock = threading.Lock()  # serialises decoding on the consumer's decoder
        self._cursor: VideoCursor | None = None  # opened on the first frame() that decodes
        self._state = threading.Lock()  # guards the three fields below
        self._closed = False
        self._last_request: int | None = None
        self._worker: ReadAhead | None = None

    # -- FrameSource ------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        """Frames counted in the stream (never the header's claim)."""
        return self._index.frame_count

    @property
    def fps(self) -> float:
        """The stream's average frame rate."""
        return self._index.fps

    @property
    def width(self) -> int:
        """Displayed width (rotation applied)."""
        return self._index.width

    @property
    def height(self) -> int:
        """Displayed height (rotation applied)."""
        return self._index.height

    @property
    def index(self) -> VideoIndex:
        """The video index (timestamps, keyframes) the source works from."""
        return self._index

    @property
    def cache(self) -> FrameCache:
        """The decoded-frame cache (for diagnostics and tests)."""
        return self._cache

    def timestamp(self, n: int) -> float:
        """Presentation time of frame ``n`` in seconds from the first frame."""
        self._check(n)
        return self._index.timestamp(n)

    def index_at(self, seconds: float) -> int:
        """The frame shown at ``seconds``."""
        return self._index.index_at(seconds)

    def frame(self, n: int) -> RGBFrame:
        """Frame ``n``, exactly (read-only; shared with the cache)."""
        self._check(n)
        behind = self._behind(n)
        cached = self._cache.get(n)
        if cached is None:
            with self._state:
                self._waiting += 1
            try:
                with self._lock:
                    if self._closed:
                        raise InvalidInputError(f"'{self._path.name}' is closed.")
                    cached = self._cache.get(n)
                    if cached is None:
                        cached = self._decode(n, behind)
            finally:
                with self._state:
                    self._waiting -= 1
        self._playhead(n)
        return cached

    @property
    def pixel_formats(self) -> tuple[PixelFormat, ...]:
        """What ``iter_frames`` hands over: RGB (the default) or 8-bit greyscale."""
        return PIXEL_FORMATS

    def iter_frames(
        self, start: int = 0, stop: int | None = None, *, pixel_format: PixelFormat = "rgb24"
    ) -> Iterator[tuple[int, RGBFrame]]:
        """Frames ``start``..``stop - 1`` decoded in order by a decoder of their own.

        ``pixel_format="gray"``: each frame as 8-bit greyscale ``H x W``, straight from the
        decoded picture (``video_cursor.to_pixels``), for the classifier's input.
        """
        if pixel_format not in PIXEL_FORMATS:
            raise InvalidInputError(
                f"Frames come as {' or '.join(PIXEL_FORMATS)}, not {pixel_format!r}."
            )
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        if start >= stop:
            return
        self._check(start)
        next_n, rebuilt = start, False
        while next_n < stop:
            # Decoding runs in a thread of its own while this one turns frames into pixels.
            decoder = DecodeThread(self._path, self._index, next_n, stop - 1, rgb=False, ahead=4)
            try:
                for pos, decoded, _ in decoder.items():
                    if decoded is None:
                        continue
                    yield pos, to_pixels(decoded, self._index, self._path, pos, pixel_format)
                    next_n = pos + 1
                    if next_n >= stop:
                        return
                return
            except IndexMismatchError as exc:
                if rebuilt:
                    raise
                rebuilt = True
                log.warning("⚠️ %s; rebuilding the index by decoding", exc)
                decoder.stop()
                with self._lock:
                    self._rebuild_index()
                stop = min(stop, self.frame_count)
            finally:
                decoder.stop()

    def close(self) -> None:
        """Stop the read-ahead worker, release the decoders and drop the cache."""
        with self._state:
            self._closed = True
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        with self._lock:
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None
        self._cache.clear()
        release_frame_memory()

    def __enter__(self) -> VideoFrameSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- decoding ---------------------------------------------------------------------------
    def _check(self, n: int) -> None:
        if not 0 <= n < self.frame_count:
            raise InvalidInputError(
                f"Frame {n} is outside '{self._path.name}' (frames 0 to {self.frame_count - 1})."
            )

    def _backwards(self, n: int) -> bool:
        """Whether asking for ``n`` is a step back from the frame asked for before."""
        last = self._last_request
        return last is not None and n < last <= n + self._readahead

    def _behind(self, n: int) -> int:
        """How many frames before ``n`` to keep while decoding to it (the first steps back)."""
        return self._readahead

    def _decode(self, n: int, behind: int) -> RGBFrame:
        """Decode frame ``n`` on the consumer's decoder (caller holds the lock)."""
        try:
            if self._cursor is None:
                self._cursor = VideoCursor(self._path, self._index)
            return _decode_with(self._cursor, self._cache, n, behind)
        except IndexMismatchError as exc:
            log.warning("⚠️ %s; rebuilding the index by decoding", exc)
            self._rebuild_index()
            self._check(n)
            self._cursor = VideoCursor(self._path, self._index)
            return _decode_with(self._cursor, self._cache, n, behind)

    def _rebuild_index(self) -> None:
        """Replace a packet index the decoder contradicted with one made by decoding."""
        with self._state:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        self._cache.clear()
        index = build_index_by_decoding(self._path)
        if self._index_cache_dir is not None:
            name = f"{file_cache_key(self._path)}.npz"
            write_cached(index, self._index_cache_dir / "video-index" / name)
        self._index = index

    def _playhead(self, n: int) -> None:
        """Tell the read-ahead where the playhead is and which way it moves."""
        with self._state:
            direction = -1 if self._backwards(n) else 1
            self._last_request = n
            if self._readahead <= 0 or self._closed:
                return
            worker = self._worker
            if worker is None:
                borrowed = Borrowed(self._lock, lambda: self._cursor, lambda: self._waiting > 0)
                worker = ReadAhead(
                    self._path,
                    self._index,
                    self._cache,
                    window=self._readahead,
                    back=self._backfill,
                    borrowed=borrowed,
                )
                worker.start()
                self._worker = worker
        worker.follow(n, direction)


def _decode_with(cursor: VideoCursor, cache: FrameCache, n: int, behind: int) -> RGBFrame:
    """Bring ``cursor`` to frame ``n``, caching the frames from ``n - behind`` on the way."""
    cursor.seek(n, behind)
    keep_from = n - behind
    while True:
        pos = cursor.pos
        if pos is None:
            raise IndexMismatchError(f"Frame {n} could not be found by its timestamp.")
        if pos >= keep_from and (pos == n or pos not in cache):
            pixels = cursor.retrieve()
            cache.put(pos, pixels)
            if pos == n:
                return pixels
        if cursor.advance() is None:
            raise IndexMismatchError(f"The video ended before frame {n}.")
