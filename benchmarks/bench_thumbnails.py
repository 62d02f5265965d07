"""Time to the first 20 timeline thumbnails of a one-hour 720p video, and peak memory.

The file: one hour of 1280x720 H.264 at 30 fps, a keyframe every 2 s (made once, about 1 GB).
``timeline_strip(path, 20)`` with an empty disk cache, after the libraries are imported (the
application has them loaded). Peak memory is sampled every 5 ms over this process and its
ffmpeg children together (resident set sizes from /proc), in a second cold run since sampling
costs time. Then the same strip again, from the disk cache. The reference, on the same file and
times: naive OpenCV (``set(POS_MSEC)``, ``read()``, resize) and the obvious command line
(one ``ffmpeg -ss t -i file -frames:v 1`` per thumbnail, one after the other).
Goal: < 1.5 s, peak memory < 400 MB.

    uv run python benchmarks/bench_thumbnails.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from _media import clip_720p, hour_720p, machine, peak_rss_mb, verdict, work_dir

from iamedic_desktop.media.thumbnails import slot_times, timeline_strip
from iamedic_desktop.media.video_index import probe_stream

COUNT = 20
GOAL_SECONDS = 1.5
GOAL_MB = 400.0


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class TreeMemory:
    """Samples the resident memory of this process plus its children in a thread."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self.peak_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            children = _children(me)
            total = _rss_kb(me) + sum(_rss_kb(c) for c in children)
            self.peak_kb = max(self.peak_kb, total)
            self.peak_children = max(self.peak_children, len(children))
            self._stop.wait(0.005)


def naive_seconds(path: Path, times: list[float]) -> float:
    """OpenCV: seek to each time and decode, then shrink to 72 pixels high."""
    import cv2

    started = time.perf_counter()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    for seconds in times:
        capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000.0)
        ok, bgr = capture.read()
        if ok:
            cv2.resize(bgr, (128, 72), interpolation=cv2.INTER_AREA)
    capture.release()
    return time.perf_counter() - started


def one_ffmpeg_per_thumbnail_seconds(path: Path, times: list[float]) -> float:
    """The obvious command line: one ``ffmpeg -ss t -i path -frames:v 1`` per thumbnail."""
    started = time.perf_counter()
    for seconds in times:
        command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-ss", f"{seconds}", "-i"]
        command += [str(path), "-frames:v", "1", "-vf", "scale=128:72", "-f", "image2pipe"]
        command += ["-c:v", "png", "-"]
        subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    path = hour_720p()
    # The application has its libraries loaded and libmagic's database read: warm them up on
    # another file, so the timing below is the strip's own work.
    warm = work_dir("thumbnails-warm-up")
    timeline_strip(clip_720p(), 2, cache_dir=warm)
    shutil.rmtree(warm, ignore_errors=True)

    print(f"bench_thumbnails: {path.name} ({path.stat().st_size / 1e9:.2f} GB); {machine()}")
    cache = work_dir("thumbnails")
    shutil.rmtree(cache, ignore_errors=True)
    arrivals: list[float] = []
    started = time.perf_counter()
    strip = timeline_strip(
        path,
        COUNT,
        cache_dir=cache,
        on_thumb=lambda *_: arrivals.append(time.perf_counter() - started),
    )
    first_strip = time.perf_counter() - started
    # The same again with an empty cache, under the memory sampler (which costs some time).
    shutil.rmtree(cache, ignore_errors=True)
    with TreeMemory() as memory:
        started = time.perf_counter()
        timeline_strip(path, COUNT, cache_dir=cache)
        sampled_strip = time.perf_counter() - started
    started = time.perf_counter()
    again = timeline_strip(path, COUNT, cache_dir=cache)
    second_strip = time.perf_counter() - started
    own, child = peak_rss_mb()
    peak = memory.peak_kb / 1024
    times = slot_times(float(probe_stream(path)["duration"]), COUNT)
    naive = naive_seconds(path, times)
    per_thumbnail = one_ffmpeg_per_thumbnail_seconds(path, times)
    assert len(strip) == len(again) == COUNT
    print(f"  {COUNT} thumbnails {strip[0][1].shape[1]}x{strip[0][1].shape[0]}, slots at")
    print(f"    {', '.join(f'{t:.0f}' for t, _ in strip)} s")
    print(
        f"  first thumbnail after {arrivals[0]:.3f} s, all {COUNT} after {first_strip:.3f} s "
        f"(goal < {GOAL_SECONDS} s)"
    )
    print(f"  again, from the disk cache: {second_strip * 1000:.1f} ms")
    print(
        f"  peak memory, this process and its ffmpeg children together: {peak:.0f} MB "
        f"(sampled in a second cold run, {sampled_strip:.3f} s) "
        f"(goal < {GOAL_MB:.0f} MB; at most {memory.peak_children} children at once; "
        f"process alone {own:.0f} MB, largest child {child:.0f} MB)"
    )
    print(
        f"  references, same {COUNT} times: naive OpenCV set(POS_MSEC) + read + resize "
        f"{naive:.3f} s ({naive / first_strip:.1f}x ours); one ffmpeg -ss per thumbnail "
        f"{per_thumbnail:.3f} s ({per_thumbnail / first_strip:.1f}x ours)"
    )
    met = first_strip < GOAL_SECONDS and peak < GOAL_MB
    print(f"  {first_strip:.3f} s, {peak:.0f} MB: {verdict(met)}")


if __name__ == "__main__":
    main()
