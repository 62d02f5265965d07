"""Benchmark media, made once with the real ffmpeg and kept in ``~/.cache/iamedic-bench``.

``IAMEDIC_BENCH_CACHE`` moves the folder. Each file is written to a temporary name and renamed
when complete, so an interrupted generation is never mistaken for a finished one. Run this
module (``uv run python benchmarks/_media.py [all|hard|hour]``) to make the files ahead of time.
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the package and tests importable
    sys.path.insert(0, str(REPO))

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def cache_dir() -> Path:
    """Where benchmark media live (made on first use)."""
    path = Path(os.environ.get("IAMEDIC_BENCH_CACHE", "~/.cache/iamedic-bench")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _encode(name: str, args: list[str]) -> Path:
    out = cache_dir() / name
    if out.exists():
        return out
    partial = out.with_name(f".partial-{os.getpid()}-{out.name}")
    print(f"🔧 making {out} (once) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        subprocess.run([*FFMPEG, *args, str(partial)], check=True)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    print(f"✅ {out.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return out


def clip_720p() -> Path:
    """20 s of 1280x720 H.264 at 30 fps, GOP 60 with B-frames: the decode and step file."""
    return _encode(
        "clip_720p_h264.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"),
            *("-frames:v", "600", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"),
            *("-g", "60", "-bf", "3", "-pix_fmt", "yuv420p"),
        ],
    )


def vfr_720p() -> Path:
    """About 13 s of 1280x720 H.264 with a variable frame rate and B-frames: the seek file."""
    keep = "not(eq(mod(n\\,3)\\,1))*not(eq(mod(n\\,7)\\,2))"  # an irregular pattern of gaps
    return _encode(
        "vfr_720p_h264.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"),
            *("-vf", f"select='{keep}'", "-vsync", "vfr", "-frames:v", "400"),
            *("-c:v", "libx264", "-preset", "veryfast", "-crf", "23"),
            *("-g", "60", "-bf", "3", "-pix_fmt", "yuv420p"),
        ],
    )


def hour_720p() -> Path:
    """One hour of 1280x720 H.264 at 30 fps, GOP 60 (about 1 GB; takes minutes the first time)."""
    return _encode(
        "hour_720p_h264.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"),
            *("-t", "3600", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2500k"),
            *("-g", "60", "-pix_fmt", "yuv420p", "-movflags", "+faststart"),
        ],
    )


def hd_gop250() -> Path:
    """60 s of 1920x1080 H.264 at 30 fps, GOP 250 (x264's default) with 3 B-frames."""
    return _encode(
        "hd_1080p_gop250.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30"),
            *("-frames:v", "1800", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"),
            *("-g", "250", "-bf", "3", "-pix_fmt", "yuv420p"),
        ],
    )


def grey_50fps() -> Path:
    """20 s of 800x600 grey pictures at 50 fps (as an ultrasound capture), x264's defaults."""
    return _encode(
        "grey_800x600_50fps.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=800x600:rate=50"),
            *("-vf", "format=gray,format=yuv420p", "-frames:v", "1000"),
            *("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"),
        ],
    )


def long_gop600() -> Path:
    """30 minutes of 1280x720 H.264 at 30 fps, GOP 600 (54,000 frames; minutes to make)."""
    return _encode(
        "long_720p_gop600.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"),
            *("-t", "1800", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2500k"),
            *("-g", "600", "-keyint_min", "600", "-pix_fmt", "yuv420p"),
            *("-movflags", "+faststart"),
        ],
    )


def hard_inputs() -> list[Path]:
    """Every decode and step input: today's clip, variable rate, 1080p GOP 250, grey, long."""
    return [clip_720p(), vfr_720p(), hd_gop250(), grey_50fps(), long_gop600()]


def work_dir(name: str) -> Path:
    """A folder under the benchmark cache for indexes and thumbnails (made on first use)."""
    path = cache_dir() / "work" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def reference_hashes(path: Path) -> list[bytes]:
    """A digest of every frame decoded by the ffmpeg command from the start (RGB, rotated)."""
    from iamedic_desktop.media.video_index import probe_stream

    info = probe_stream(path)
    size = info["width"] * info["height"] * 3
    command = [*FFMPEG[:-1], "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    hashes: list[bytes] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        while True:
            frame = process.stdout.read(size)
            if len(frame) < size:
                break
            hashes.append(frame_hash(frame))
    return hashes


def cached_reference_hashes(path: Path) -> list[bytes]:
    """``reference_hashes``, kept next to the file (the 30-minute file takes minutes)."""
    stat = path.stat()
    keep = path.with_name(f".{path.name}.{stat.st_size}.{stat.st_mtime_ns}.hashes")
    if keep.exists():
        data = keep.read_bytes()
        return [data[i : i + 16] for i in range(0, len(data), 16)]
    hashes = reference_hashes(path)
    partial = keep.with_name(f"{keep.name}.{os.getpid()}.partial")
    partial.write_bytes(b"".join(hashes))
    partial.replace(keep)
    return hashes


def frame_hash(pixels: bytes | memoryview) -> bytes:
    """A short digest of one frame's bytes."""
    return hashlib.blake2b(pixels, digest_size=16).digest()


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def machine() -> str:
    """One line naming the machine: cores, CPU model, memory, load."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown memory"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores, {model}, {memory}, {platform.system()} "
        f"{platform.release()}, load average {load:.2f}"
    )


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def verdict(met: bool) -> str:
    """The word a result line ends with."""
    return "goal met" if met else "GOAL NOT MET"


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    clip_720p()
    vfr_720p()
    if which in {"all", "hard"}:
        for made in hard_inputs():
            cached_reference_hashes(made)
    if which in {"all", "hour"}:
        hour_720p()
