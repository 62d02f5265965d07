"""Stepping one frame forward and back right after a cold landing, on every hard input.

Inputs (``_media.hard_inputs``): the 720p GOP-60 clip, the variable-rate file, 1080p H.264 GOP
250 with 3 B-frames, 800x600 grey at 50 fps, and 30 minutes of 720p at GOP 600. For each, the
frame source with its defaults (512 MB cache, 24 frames read-ahead) lands on frames it has not
decoded (a fresh source each time, opened as the player does: its first frame shown, then half
a second before the click; nothing near the target is cached; spread over the file, at random
places in their groups) and then steps:
- paced: 40 steps back (or forward) one every 40 ms, as a held arrow key, from 5 landings;
- at once: 10 steps back (or forward) with no pause at all, from 20 landings (worst case).
Each scenario times 200 steps (``frame(n)`` calls; the landing is timed apart) and checks all
200 frames, and its landings, against ffmpeg's decode from the start (a digest per frame).
Also: landing on keyframes of the GOP-600 file and on frames 8 past a keyframe of the 1080p
file (a freshly opened source each), and the resident memory while paused on the 1080p file once the
back-fill is done. Goals: steps median < 5 ms and p95 < 50 ms, every frame exact, those
landings < 100 ms, memory while paused < 1 GB.

    uv run python benchmarks/bench_step.py [name-part ...]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from _media import (
    cached_reference_hashes,
    frame_hash,
    hard_inputs,
    hd_gop250,
    long_gop600,
    machine,
    median,
    percentile,
    verdict,
    work_dir,
)

from iamedic_desktop.media.video_source import VideoFrameSource

PACE_SECONDS = 0.040
GOAL_MEDIAN_MS = 5.0
GOAL_P95_MS = 50.0
GOAL_LANDING_MS = 100.0
GOAL_MEMORY_MB = 1024.0
OPEN_PAUSE_SECONDS = 0.5  # between a video's first frame shown and the click on the timeline
SCENARIOS = (  # name, direction, landings, steps per landing, pause between steps
    ("back, paced", -1, 5, 40, PACE_SECONDS),
    ("forward, paced", 1, 5, 40, PACE_SECONDS),
    ("back, at once", -1, 20, 10, 0.0),
    ("forward, at once", 1, 20, 10, 0.0),
)


def _source(path: Path) -> VideoFrameSource:
    return VideoFrameSource(path, cache_mb=512, readahead=24, index_cache_dir=work_dir("step"))


def _opened(path: Path) -> VideoFrameSource:
    """A source as the player opens it: the first frame shown, then a pause before a click."""
    source = _source(path)
    source.frame(0)
    time.sleep(OPEN_PAUSE_SECONDS)
    return source


def landings(count: int, how_many: int, steps: int, rng: random.Random) -> list[int]:
    """Frames far apart (the cache never holds a neighbour), each at a random place."""
    stride = count // how_many
    margin = steps + 1
    return [
        min(max(k * stride + rng.randrange(stride), margin), count - margin - 1)
        for k in range(how_many)
    ]


def scenario(
    path: Path, truth: list[bytes], direction: int, runs: int, steps: int, pause: float, seed: str
) -> tuple[list[float], list[float], list[float], int, int]:
    """Landing times, first-step times, all step times, exact frames and frames checked."""
    rng = random.Random(seed)
    landed: list[float] = []
    first: list[float] = []
    stepped: list[float] = []
    exact = checked = 0
    count = len(truth)
    for start in landings(count, runs, steps, rng):
        with _opened(path) as source:  # a fresh source: the landing is cold
            began = time.perf_counter()
            pixels = source.frame(start)
            landed.append(time.perf_counter() - began)
            exact += frame_hash(pixels.tobytes()) == truth[start]
            checked += 1
            for k in range(1, steps + 1):
                if pause:
                    time.sleep(pause)
                n = start + direction * k
                began = time.perf_counter()
                pixels = source.frame(n)
                seconds = time.perf_counter() - began
                stepped.append(seconds)
                if k == 1:
                    first.append(seconds)
                exact += frame_hash(pixels.tobytes()) == truth[n]
                checked += 1
    return landed, first, stepped, exact, checked


def keyframe_landings(path: Path, truth: list[bytes], past: int, tries: int) -> list[float]:
    """Land ``past`` frames after ``tries`` keyframes, a fresh source (cold) for each."""
    times: list[float] = []
    with _source(path) as probe:
        index = probe.index
        keys = sorted({index.keyframe_of(n) for n in range(0, index.frame_count, 97)})
    rng = random.Random(f"keys-{path.name}")
    for key in rng.sample(keys[1:], min(tries, len(keys) - 1)):
        n = min(key + past, index.frame_count - 1)
        with _opened(path) as source:
            began = time.perf_counter()
            pixels = source.frame(n)
            times.append(time.perf_counter() - began)
            assert frame_hash(pixels.tobytes()) == truth[n], f"frame {n} differs"
    return times


def paused_memory(path: Path) -> None:
    """Print resident MB once the source has back-filled around a landing (fresh process)."""
    import resource

    def rss_mb() -> float:
        status = Path("/proc/self/status").read_text().splitlines()
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

    with _source(path) as source:
        before = rss_mb()
        source.frame(source.frame_count // 2 + 100)
        time.sleep(8.0)  # paused: the read-ahead and the back-fill finish
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{rss_mb():.0f} {peak:.0f} {before:.0f} {len(source.cache)}")


def paused_memory_in_child(path: Path) -> tuple[float, float, float, int]:
    """Resident MB paused, peak MB, MB before the landing, frames cached: in a new process."""
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, "--paused-memory", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    rss, peak, before, frames = done.stdout.split()[-4:]
    return float(rss), float(peak), float(before), int(frames)


def ms(values: list[float], q: float | None = None) -> float:
    """Median (or quantile ``q``) of seconds, in ms."""
    return (median(values) if q is None else percentile(values, q)) * 1000


def main() -> None:
    if sys.argv[1:2] == ["--paused-memory"]:
        paused_memory(Path(sys.argv[2]))
        return
    wanted = sys.argv[1:]
    print(f"bench_step: {machine()}")
    ok = True
    for path in hard_inputs():
        if wanted and not any(part in path.name for part in wanted):
            continue
        truth = cached_reference_hashes(path)
        print(f"  {path.name}: {len(truth)} frames")
        print(
            f"    {'scenario':18} {'median':>8} {'p95':>8} {'max':>8}  {'1st step':>8} "
            f"{'1st p95':>8}  {'landing':>8}  exact"
        )
        for name, direction, runs, steps, pause in SCENARIOS:
            landed, first, stepped, exact, checked = scenario(
                path, truth, direction, runs, steps, pause, f"{path.name}-{name}"
            )
            met = ms(stepped) < GOAL_MEDIAN_MS and ms(stepped, 0.95) < GOAL_P95_MS
            met = met and exact == checked
            ok = ok and met
            print(
                f"    {name:18} {ms(stepped):8.2f} {ms(stepped, 0.95):8.2f} "
                f"{max(stepped) * 1000:8.1f}  {ms(first):8.2f} {ms(first, 0.95):8.2f}  "
                f"{ms(landed):8.1f}  {exact}/{checked} {verdict(met)}"
            )
    if not wanted or any(part in "landings memory" for part in wanted):
        for path, past, name in ((long_gop600(), 0, "keyframe"), (hd_gop250(), 8, "8 past")):
            times = keyframe_landings(path, cached_reference_hashes(path), past, 10)
            met = max(times) * 1000 < GOAL_LANDING_MS
            ok = ok and met
            print(
                f"  landing on {name} a keyframe, {path.name}: median {ms(times):.1f} ms, "
                f"max {max(times) * 1000:.1f} ms (goal < {GOAL_LANDING_MS:.0f}): {verdict(met)}"
            )
        rss, peak, before, frames = paused_memory_in_child(hd_gop250())
        met = max(rss, peak) < GOAL_MEMORY_MB
        ok = ok and met
        print(
            f"  paused on {hd_gop250().name}: {rss:.0f} MB resident ({before:.0f} MB before "
            f"the landing, peak {peak:.0f} MB), {frames} frames cached (bound: the 512 MB "
            f"cache + two decoders; goal < {GOAL_MEMORY_MB:.0f} MB): {verdict(met)}"
        )
    print(f"  all: {verdict(ok)}")


if __name__ == "__main__":
    main()
