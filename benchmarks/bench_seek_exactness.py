"""Exactness of 200 random seeks, against a sequential decode from the start.

Two 720p H.264 files with B-frames: a constant 30 fps clip and a variable-frame-rate one (an
irregular pattern of dropped frames, as phones record). The truth is ffmpeg's decode of every
frame from the start (a digest of each); the frame source is asked for 200 random frames with a
cache too small to help (16 MB, about 5 frames) and no read-ahead, so each request seeks. The
reference is naive OpenCV on the same frames: ``set(CAP_PROP_POS_FRAMES, n)`` then ``read()``.
Goal: all 200 exact.

    uv run python benchmarks/bench_seek_exactness.py
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from _media import (
    clip_720p,
    frame_hash,
    machine,
    median,
    reference_hashes,
    verdict,
    vfr_720p,
    work_dir,
)

from iamedic_desktop.media.video_source import VideoFrameSource

SEEKS = 200


def ours(path: Path, targets: list[int], truth: list[bytes]) -> tuple[int, list[float], int]:
    """Exact frames, seek times and the count of the frame source."""
    exact = 0
    times: list[float] = []
    with VideoFrameSource(
        path, cache_mb=16, readahead=0, index_cache_dir=work_dir("seek")
    ) as source:
        count = source.frame_count
        for n in targets:
            started = time.perf_counter()
            pixels = source.frame(n)
            times.append(time.perf_counter() - started)
            exact += frame_hash(pixels.tobytes()) == truth[n]
    return exact, times, count


def naive(path: Path, targets: list[int], truth: list[bytes]) -> tuple[int, list[float], int]:
    """The same with set(POS_FRAMES) + read(), and OpenCV's frame count."""
    import cv2

    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    exact = 0
    times: list[float] = []
    for n in targets:
        started = time.perf_counter()
        capture.set(cv2.CAP_PROP_POS_FRAMES, n)
        ok, bgr = capture.read()
        times.append(time.perf_counter() - started)
        if ok:
            exact += frame_hash(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).tobytes()) == truth[n]
    capture.release()
    return exact, times, count


def main() -> None:
    print(f"bench_seek_exactness: {SEEKS} random seeks per file; {machine()}")
    all_exact = True
    for path in (clip_720p(), vfr_720p()):
        truth = reference_hashes(path)
        rng = random.Random(f"{path.name}-2026")
        targets = [rng.randrange(len(truth)) for _ in range(SEEKS)]
        exact, times, count = ours(path, targets, truth)
        naive_exact, naive_times, naive_count = naive(path, targets, truth)
        all_exact = all_exact and exact == SEEKS and count == len(truth)
        print(f"  {path.name}: {len(truth)} frames decoded from the start")
        print(
            f"    frame source: {exact}/{SEEKS} exact, frame count {count}, "
            f"median seek {median(times) * 1000:.1f} ms, slowest {max(times) * 1000:.1f} ms"
        )
        print(
            f"    naive OpenCV: {naive_exact}/{SEEKS} exact, frame count {naive_count}, "
            f"median seek {median(naive_times) * 1000:.1f} ms"
        )
    print(f"  all seeks exact (goal: all): {verdict(all_exact)}")


if __name__ == "__main__":
    main()
