"""Sequential decode speed of the frame source against ``ffmpeg -f null``, on every hard input.

Inputs (``_media.hard_inputs``): the 720p GOP-60 clip, the variable-rate file, 1080p GOP 250
with B-frames, 800x600 grey at 50 fps, and the 30-minute 720p GOP-600 file (its first 9,000
frames, five minutes, for both: a whole pass takes minutes per round). Both decode every frame
from the start; the frame source also converts each frame to RGB (``iter_frames``) and checks its
timestamp. After one warm-up of each (file in the page cache, index on disk), they take turns
for 5 rounds, so a load that comes and goes on a shared machine hits both
alike; each result is the median of its rounds. The CPU time per frame (user + system, children
included) is printed too. Goal: the frame source reaches at least 0.8 of ffmpeg's frames/s on
every input.

    uv run python benchmarks/bench_decode.py [name-part ...]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _media import FFMPEG, hard_inputs, machine, median, verdict, work_dir

from iamedic_desktop.media.video_index import build_index_from_packets
from iamedic_desktop.media.video_source import VideoFrameSource

GOAL = 0.8
ROUNDS = 5
LONG_ROUNDS = 5  # the 30-minute file's rounds take 15 s each
LONG_FRAMES = 9000  # of the 30-minute file


def _limit(path: Path) -> int | None:
    return LONG_FRAMES if "long" in path.name else None


def frame_source(path: Path) -> int:
    """Open the source (index from the disk cache) and decode every frame in order."""
    cache = work_dir("decode")
    with VideoFrameSource(path, cache_mb=64, readahead=0, index_cache_dir=cache) as source:
        return sum(1 for _ in source.iter_frames(0, _limit(path)))


def _frames(path: Path) -> list[str]:
    limit = _limit(path)
    return [] if limit is None else ["-frames:v", str(limit)]


def ffmpeg_null(path: Path) -> int:
    """``ffmpeg -i path -f null -``: decoding only, process start included."""
    subprocess.run([*FFMPEG, "-i", str(path), *_frames(path), "-f", "null", "-"], check=True)
    return 0


def ffmpeg_rgb(path: Path) -> int:
    """The same with the conversion to RGB that the frame source also does."""
    command = [*FFMPEG, "-i", str(path), *_frames(path), "-pix_fmt", "rgb24", "-f", "null", "-"]
    subprocess.run(command, check=True)
    return 0


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(run: Callable[[Path], int], path: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and frames of one run."""
    cpu, started = _cpu(), time.perf_counter()
    frames = run(path)
    return time.perf_counter() - started, _cpu() - cpu, frames


def one(path: Path) -> bool:
    """Measure and print one input; whether the goal is met."""
    started = time.perf_counter()
    index = build_index_from_packets(path)
    assert index is not None
    seconds = time.perf_counter() - started
    print(f"  {path.name}: index from the packets (first open only) {seconds:.2f} s")
    runs = {
        "frame source iter_frames (RGB)": frame_source,
        "ffmpeg -f null (reference)": ffmpeg_null,
        "ffmpeg -pix_fmt rgb24 -f null": ffmpeg_rgb,
    }
    for run in runs.values():
        measure(run, path)  # warm-up
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    frames = 0
    rounds = LONG_ROUNDS if _limit(path) else ROUNDS
    for _ in range(rounds):
        for name, run in runs.items():
            wall, cpu, count = measure(run, path)
            walls[name].append(wall)
            cpus[name].append(cpu)
            frames = max(frames, count)
    print(f"    frames: {frames} (index: {index.frame_count}); medians of {rounds} rounds")
    fps = {name: frames / median(values) for name, values in walls.items()}
    for name in runs:
        each = ", ".join(f"{v:.2f}" for v in walls[name])
        cpu_ms = median(cpus[name]) / frames * 1000
        print(f"    {name:32} {fps[name]:6.0f} frames/s  {cpu_ms:5.2f} CPU ms/frame  ({each} s)")
    ratio = fps["frame source iter_frames (RGB)"] / fps["ffmpeg -f null (reference)"]
    print(f"    ratio {ratio:.2f} of ffmpeg's frames/s (goal >= {GOAL}): {verdict(ratio >= GOAL)}")
    return ratio >= GOAL


def main() -> None:
    wanted = sys.argv[1:]
    print(f"bench_decode: {machine()}")
    met = [one(p) for p in hard_inputs() if not wanted or any(w in p.name for w in wanted)]
    print(f"  every input: {verdict(all(met))}")


if __name__ == "__main__":
    main()
