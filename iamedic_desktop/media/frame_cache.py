"""Decoded frames around the playhead, least recently used first out, bounded by bytes.

Threading: every method takes the cache's own lock, so the read-ahead worker may fill the
cache while the consumer thread reads it. Frames are stored read-only and handed out as they
are (no copy): a caller that wants to draw on a frame copies it first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from iamedic_desktop.media.frame_source import RGBFrame


class FrameCache:
    """An LRU map of frame index -> RGB frame that never holds more than ``capacity_bytes``."""

    def __init__(self, capacity_bytes: int) -> None:
        if capacity_bytes < 0:
            raise ValueError("capacity_bytes must be >= 0")
        self._capacity = capacity_bytes
        self._frames: OrderedDict[int, RGBFrame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def capacity_bytes(self) -> int:
        """The most bytes of pixels the cache may hold."""
        return self._capacity

    @property
    def bytes_held(self) -> int:
        """Bytes of pixels held now (always <= capacity_bytes)."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def __contains__(self, n: object) -> bool:
        with self._lock:
            return n in self._frames

    def get(self, n: int) -> RGBFrame | None:
        """Frame ``n`` if cached (and mark it recently used), else None."""
        with self._lock:
            frame = self._frames.get(n)
            if frame is None:
                self.misses += 1
                return None
            self._frames.move_to_end(n)
            self.hits += 1
            return frame

    def put(self, n: int, frame: RGBFrame) -> bool:
        """Keep ``frame`` as frame ``n``, evicting the least recently used; False if too big."""
        size = frame.nbytes
        if size > self._capacity:
            return False
        frame.flags.writeable = False  # shared with every caller: nobody may paint on it
        with self._lock:
            old = self._frames.pop(n, None)
            if old is not None:
                self._bytes -= old.nbytes
            while self._frames and self._bytes + size > self._capacity:
                _, evicted = self._frames.popitem(last=False)
                self._bytes -= evicted.nbytes
            self._frames[n] = frame
            self._bytes += size
            return True

    def missing(self, indices: Iterable[int]) -> list[int]:
        """Those of ``indices`` not cached, in the order given (no LRU change)."""
        with self._lock:
            return [n for n in indices if n not in self._frames]

    def fits(self, frame_bytes: int) -> int:
        """How many frames of ``frame_bytes`` the cache can hold at once."""
        return self._capacity // frame_bytes if frame_bytes > 0 else 0

    def clear(self) -> None:
        """Drop every frame."""
        with self._lock:
            self._frames.clear()
            self._bytes = 0
