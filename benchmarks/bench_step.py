"""Latency of stepping one frame forward and one frame back, against naive OpenCV.

The same 20 s 720p H.264 clip (30 fps, GOP 60, B-frames). A user holds the arrow key: one
step every 40 ms (a keyboard's auto-repeat), 40 steps forward from 5 places and 40 steps back
from 5 other places the source has not decoded yet; each ``frame(n)`` call is timed. The first
frame of each run (a seek) is not counted as a step. The reference does what a naive player
does for every step: ``set(CAP_PROP_POS_FRAMES, n)`` then ``read()``, on the same frames.
Every frame of both is checked against ffmpeg's decode from the start.
Goal: median < 5 ms, and at least 15 times faster than the reference, backwards included.

    uv run python benchmarks/bench_step.py
"""

from __future__ import annotations

import time
from pathlib import Path

from _media import (
    clip_720p,
    frame_hash,
    machine,
    median,
    percentile,
    reference_hashes,
    verdict,
    work_dir,
)

from iamedic_desktop.media.video_source import VideoFrameSource

PACE_SECONDS = 0.040
STEPS = 40
RUNS = 5
GOAL_MS = 5.0
GOAL_RATIO = 15.0


def plan(count: int) -> tuple[list[int], list[int]]:
    """Start frames of the forward and the backward runs, apart from each other."""
    forward = [20 + k * (count // RUNS) for k in range(RUNS)]
    backward = [f + count // (2 * RUNS) + STEPS for f in forward]
    return forward, [min(b, count - 1) for b in backward]


def ours(
    path: Path, starts: tuple[list[int], list[int]], truth: list[bytes], pace: float
) -> tuple[dict[str, list[float]], int]:
    """Step with the frame source (default cache and read-ahead), paced like a held key."""
    latencies: dict[str, list[float]] = {"forward": [], "backward": []}
    wrong = 0
    with VideoFrameSource(
        path, cache_mb=512, readahead=24, index_cache_dir=work_dir("step")
    ) as source:
        for direction, firsts in zip(("forward", "backward"), starts, strict=True):
            sign = 1 if direction == "forward" else -1
            for first in firsts:
                source.frame(first)
                time.sleep(pace)
                for k in range(1, STEPS + 1):
                    n = first + sign * k
                    started = time.perf_counter()
                    pixels = source.frame(n)
                    latencies[direction].append(time.perf_counter() - started)
                    wrong += frame_hash(pixels.tobytes()) != truth[n]
                    time.sleep(pace)
    return latencies, wrong


def naive(
    path: Path, starts: tuple[list[int], list[int]], truth: list[bytes], runs: int
) -> tuple[dict[str, list[float]], int]:
    """Step with set(POS_FRAMES) + read() for every frame, as a naive player would."""
    import cv2

    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    latencies: dict[str, list[float]] = {"forward": [], "backward": []}
    wrong = 0
    for direction, firsts in zip(("forward", "backward"), starts, strict=True):
        sign = 1 if direction == "forward" else -1
        for first in firsts[:runs]:
            for k in range(1, STEPS + 1):
                n = first + sign * k
                started = time.perf_counter()
                capture.set(cv2.CAP_PROP_POS_FRAMES, n)
                ok, bgr = capture.read()
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                latencies[direction].append(time.perf_counter() - started)
                wrong += (not ok) or frame_hash(rgb.tobytes()) != truth[n]
    capture.release()
    return latencies, wrong


def scrubbing(path: Path, count: int) -> tuple[float, float, float]:
    """Median time of a random jump: on the scrubbing proxy, and at full resolution."""
    import random

    from iamedic_desktop.media.scrub_proxy import ScrubProxy, build_scrub_proxy

    started = time.perf_counter()
    proxy_file = build_scrub_proxy(path, cache_dir=work_dir("step"))
    built = time.perf_counter() - started
    rng = random.Random(11)
    targets = [rng.randrange(count) for _ in range(100)]
    proxy_times: list[float] = []
    full_times: list[float] = []
    with ScrubProxy(proxy_file, count, index_cache_dir=work_dir("step")) as proxy:
        for n in targets:
            started = time.perf_counter()
            proxy.frame(n)
            proxy_times.append(time.perf_counter() - started)
    with VideoFrameSource(path, cache_mb=16, readahead=0, index_cache_dir=work_dir("step")) as full:
        for n in targets:
            started = time.perf_counter()
            full.frame(n)
            full_times.append(time.perf_counter() - started)
    return built, median(proxy_times), median(full_times)


def _line(name: str, direction: str, values: list[float]) -> str:
    slow = sum(v * 1000 >= GOAL_MS for v in values)
    p90 = percentile(values, 0.9) * 1000
    return (
        f"  {name:36} {direction:9} {median(values) * 1000:8.2f} {p90:8.2f}"
        f" {max(values) * 1000:8.2f} {len(values):6} {slow:6}"
    )


def main() -> None:
    path = clip_720p()
    print(f"bench_step: {path.name}; {machine()}")
    truth = reference_hashes(path)
    starts = plan(len(truth))
    mine, mine_wrong = ours(path, starts, truth, PACE_SECONDS)
    rushed, rushed_wrong = ours(path, starts, truth, 0.0)
    reference, reference_wrong = naive(path, starts, truth, runs=2)
    heads = f"{'median':>8} {'p90':>8} {'max':>8} {'steps':>6} {'>=5ms':>6}"
    print(f"  {'latency of one step (ms)':46} {heads}")
    rows = (
        (f"frame source, a step every {PACE_SECONDS * 1000:.0f} ms", mine),
        ("frame source, no pause (worst case)", rushed),
        ("naive set(POS_FRAMES) + read", reference),
    )
    for name, result in rows:
        for direction in ("forward", "backward"):
            print(_line(name, direction, result[direction]))
    print(
        f"  frames different from ffmpeg's decode: frame source {mine_wrong + rushed_wrong}, "
        f"naive {reference_wrong}"
    )
    ok = mine_wrong == 0
    for direction in ("forward", "backward"):
        ours_median = median(mine[direction])
        ratio = median(reference[direction]) / ours_median
        met = ours_median * 1000 < GOAL_MS and ratio >= GOAL_RATIO
        ok = ok and met
        print(
            f"  {direction}: median {ours_median * 1000:.2f} ms (goal < {GOAL_MS:.0f} ms), "
            f"{ratio:.0f}x faster than naive (goal >= {GOAL_RATIO:.0f}x): {verdict(met)}"
        )
    both = mine["forward"] + mine["backward"]
    ratio = median(reference["forward"] + reference["backward"]) / median(both)
    print(f"  both directions: median {median(both) * 1000:.2f} ms, {ratio:.0f}x: {verdict(ok)}")
    built, proxy_median, full_median = scrubbing(path, len(truth))
    made = f"made in {built:.1f} s" if built > 0.05 else "from the disk cache"
    print(
        f"  scrubbing (100 random jumps): proxy {proxy_median * 1000:.1f} ms, full resolution "
        f"{full_median * 1000:.1f} ms median (proxy {made})"
    )


if __name__ == "__main__":
    main()
