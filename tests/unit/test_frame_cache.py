"""The decoded-frame cache: least recently used out first, never more bytes than allowed."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from iamedic_desktop.media.frame_cache import FrameCache


def _frame(value: int, size: int = 10) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)  # 300 bytes at size 10


def test_least_recently_used_frames_leave_first() -> None:
    cache = FrameCache(capacity_bytes=900)  # three frames
    for n in range(3):
        assert cache.put(n, _frame(n))
    assert cache.get(0) is not None  # 0 is now the most recently used
    cache.put(3, _frame(3))
    assert 1 not in cache and 0 in cache and 2 in cache and 3 in cache
    assert len(cache) == 3 and cache.bytes_held == 900
    assert cache.missing([0, 1, 2, 5]) == [1, 5]


def test_the_byte_bound_holds_for_mixed_sizes() -> None:
    cache = FrameCache(capacity_bytes=1000)
    for n in range(50):
        cache.put(n, _frame(n, size=5 + n % 12))
        assert cache.bytes_held <= 1000
    assert cache.put(99, _frame(0, size=30)) is False  # 2,700 bytes can never fit
    assert 99 not in cache


def test_replacing_a_frame_counts_its_bytes_once() -> None:
    cache = FrameCache(capacity_bytes=1000)
    cache.put(1, _frame(1))
    cache.put(1, _frame(2))
    assert cache.bytes_held == 300 and len(cache) == 1
    assert cache.get(1)[0, 0, 0] == 2  # type: ignore[index]


def test_cached_frames_are_read_only_and_counted() -> None:
    cache = FrameCache(capacity_bytes=1000)
    cache.put(7, _frame(7))
    frame = cache.get(7)
    assert frame is not None
    with pytest.raises(ValueError):
        frame[0, 0, 0] = 1
    assert cache.get(8) is None
    assert (cache.hits, cache.misses) == (1, 1)
    cache.clear()
    assert len(cache) == 0 and cache.bytes_held == 0
    assert cache.fits(300) == 3 and cache.fits(0) == 0
    with pytest.raises(ValueError):
        FrameCache(-1)


def test_threads_putting_and_getting_keep_the_bound() -> None:
    cache = FrameCache(capacity_bytes=3000)
    errors: list[str] = []

    def work(offset: int) -> None:
        for n in range(offset, offset + 500):
            cache.put(n % 40, _frame(n % 251))
            cache.get((n * 7) % 40)
            if cache.bytes_held > 3000:
                errors.append(f"over the bound at {n}")

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cache.bytes_held == 300 * len(cache) <= 3000
