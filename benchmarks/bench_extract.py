"""Extraction of every 10th frame to JPEG stills vs ffmpeg's ``select`` filter, on every input.

Reference: ``ffmpeg -i clip -vf select='not(mod(n\\,10))' -vsync vfr -q:v 2 out/%04d.jpg``.
Measured here: (a) the pipeline's decode and encode part: every frame decoded in order, every
10th turned to RGB (``iter_selected``) and encoded by ``encode_jpeg`` to a file, as ffmpeg
does; (b) the whole service, ``extract_every_frames(..., 10)``, with the media store (temp
file, fsync, rename, SHA-256) and the database rows of every still. Goal: (b) at least 0.7 of
ffmpeg's speed on every input. The three take turns, ``--repeat`` rounds (default 3), so a
load that comes and goes on a shared machine hits them alike; each result is the median of its
rounds. Inputs: ``_media.hard_inputs`` but the 30-minute file (5,400 stills a round: only with
``--long``, one round).

Run: ``uv run python benchmarks/bench_extract.py [--repeat N] [--long] [name-part ...]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _media import FFMPEG, hard_inputs, machine, verdict

from iamedic_desktop.media.open_source import open_frame_source
from iamedic_desktop.media.selected_frames import iter_selected
from iamedic_desktop.media.still_encoder import encode_jpeg

EVERY = 10
GOAL = 0.7


Runner = Callable[[Path], tuple[int, float]]  # stills written, seconds taken


def _interleaved(runs: list[Runner], repeat: int) -> list[tuple[float, int]]:
    """Per runner: the median seconds of ``repeat`` rounds (runners take turns) and its count."""
    times: list[list[float]] = [[] for _ in runs]
    counts = [0] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            out = Path(tempfile.mkdtemp(prefix="iamedic-bench-"))
            try:
                counts[i], seconds = run(out)
                times[i].append(seconds)
            finally:
                shutil.rmtree(out, ignore_errors=True)
    return [(statistics.median(t), c) for t, c in zip(times, counts, strict=True)]


def ffmpeg_select(clip: Path) -> Runner:
    """ffmpeg decoding the clip and writing every 10th frame as a JPEG."""

    def run(out: Path) -> tuple[int, float]:
        started = time.perf_counter()
        subprocess.run(
            [
                *FFMPEG,
                *("-i", str(clip)),
                *("-vf", f"select='not(mod(n\\,{EVERY}))'", "-vsync", "vfr", "-q:v", "2"),
                str(out / "%05d.jpg"),
            ],
            check=True,
        )
        return len(list(out.iterdir())), time.perf_counter() - started

    return run


def pipeline_decode_encode(clip: Path) -> Runner:
    """The service's decode path (every frame decoded, every 10th to RGB) and JPEG files."""

    def run(out: Path) -> tuple[int, float]:
        started = time.perf_counter()
        source = open_frame_source(clip)
        written = 0
        try:
            chosen = range(0, source.frame_count, EVERY)
            for n, frame in iter_selected(source, clip, chosen):
                (out / f"{n:05d}.jpg").write_bytes(encode_jpeg(frame))
                written += 1
        finally:
            source.close()
        return written, time.perf_counter() - started

    return run


def pipeline_service(clip: Path) -> Runner:
    """``extract_every_frames`` on a fresh local store holding the clip as a video."""

    def run(out: Path) -> tuple[int, float]:
        from iamedic_desktop.core.settings import Settings
        from iamedic_desktop.services.extraction import extract_every_frames
        from iamedic_desktop.services.local_store import open_local_store
        from iamedic_desktop.services.media_records import create_media
        from iamedic_desktop.services.studies import create_study

        store = open_local_store(Settings(data_dir=out / "data", cache_dir=out / "cache"))
        try:
            study = create_study(store.uow, store.actor, "Benchmark")
            stored = store.media.copy_in(clip)
            video = create_media(
                store.uow,
                store.actor,
                study.id,
                filename=clip.name,
                file_path=stored.key,
                file_size=stored.size,
                mime_type="video/mp4",
            )
            started = time.perf_counter()  # the store and the video row are set-up
            result = extract_every_frames(store.uow, store.actor, store.media, video.id, EVERY)
            seconds = time.perf_counter() - started
        finally:
            store.close()
        return result.created, seconds

    return run


def one(clip: Path, repeat: int) -> bool:
    """Print the three timings and the ratios to ffmpeg for ``clip``; whether (b) meets the goal."""
    print(f"file: {clip.name} ({clip.stat().st_size / 1e6:.1f} MB), every {EVERY}th frame")
    runners = [ffmpeg_select(clip), pipeline_decode_encode(clip), pipeline_service(clip)]
    (ffmpeg_s, ffmpeg_n), (ours_s, ours_n), (service_s, service_n) = _interleaved(runners, repeat)
    if not ffmpeg_n == ours_n == service_n:
        print(f"❌ stills differ: ffmpeg {ffmpeg_n}, pipeline {ours_n}, service {service_n}")
        return False

    def line(name: str, seconds: float) -> str:
        return f"  {name:<34} {seconds:6.2f} s  {ffmpeg_n / seconds:6.1f} stills/s"

    print(line("ffmpeg select filter (reference)", ffmpeg_s))
    print(line("pipeline decode + encode", ours_s))
    print(line("pipeline + store + database", service_s))
    ratio = ffmpeg_s / service_s
    print(f"  speed vs ffmpeg: decode + encode {ffmpeg_s / ours_s:.2f}")
    print(
        f"  speed vs ffmpeg: with store and database {ratio:.2f} "
        f"(goal >= {GOAL}) {verdict(ratio >= GOAL)}"
    )
    return ratio >= GOAL


def main() -> int:
    """Measure every input named (all but the 30-minute file by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--long", action="store_true", help="the 30-minute file too, one round")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    met = []
    for clip in hard_inputs():
        if args.names and not any(name in clip.name for name in args.names):
            continue
        if "long" in clip.name:
            if not args.long:
                continue
            met.append(one(clip, 1))
        else:
            met.append(one(clip, args.repeat))
    print(f"every input: {verdict(all(met))}")
    return 0 if all(met) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    sys.exit(main())
