"""Stepping a B-frame GOP-250 clip (x264's defaults): exact, from memory both ways, cheap seeks.

The clip is 10 s of 320x240 H.264 at 30 fps with 3 B-frames and one keyframe every 250 frames,
as capture recorders write them; every frame is checked against ffmpeg's decode from the start.
Also: the workstation's own transcodes get a keyframe at least every second.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.media.probe import probe_video
from iamedic_desktop.media.transcode import ensure_browser_playable, keyframe_interval
from iamedic_desktop.media.video_cursor import VideoCursor
from iamedic_desktop.media.video_index import load_video_index
from iamedic_desktop.media.video_source import VideoFrameSource

FFMPEG = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
FFPROBE = ["ffprobe", "-v", "error", "-select_streams", "v:0"]
RAW_RGB = ["-f", "rawvideo", "-pix_fmt", "rgb24"]
WIDTH, HEIGHT, FRAMES = 320, 240, 300


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """The GOP-250 clip and ffmpeg's RGB decode of every frame from the start."""
    folder = tmp_path_factory.mktemp("gop250")
    path = folder / "gop250.mp4"
    subprocess.run(
        [
            *FFMPEG,
            *("-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=30"),
            *("-frames:v", str(FRAMES), "-c:v", "libx264", "-preset", "veryfast"),
            *("-g", "250", "-bf", "3", "-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    raw = subprocess.run(
        [
            *FFMPEG,
            "-i",
            str(path),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, HEIGHT, WIDTH, 3)
    assert frames.shape[0] == FRAMES
    return path, frames


def _wait_until(condition: object, seconds: float = 30.0) -> bool:
    """Poll ``condition`` until true or the deadline (an Event's wait, never a sleep)."""
    deadline = time.monotonic() + seconds
    tick = threading.Event()
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        tick.wait(0.01)
    return False


def test_the_clip_has_b_frames_and_a_250_frame_group(clip: tuple[Path, np.ndarray]) -> None:
    path, _ = clip
    index = load_video_index(path, None)
    assert index.frame_count == FRAMES
    assert [index.keyframe_of(n) for n in (0, 249, 250, 299)] == [0, 0, 250, 250]
    packet_order = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    pts = [int(p) for p in packet_order if p.lstrip("-").isdigit()]
    assert pts != sorted(pts)  # decode order differs from presentation order: B-frames


def test_random_frames_and_every_frame_in_order_are_exact(
    clip: tuple[Path, np.ndarray],
) -> None:
    path, truth = clip
    with VideoFrameSource(path, cache_mb=16, readahead=0, cache_index=False) as source:
        rng = random.Random(250)
        for n in [rng.randrange(FRAMES) for _ in range(60)] + [250, 249, 0, 299, 251]:
            assert np.array_equal(source.frame(n), truth[n]), n
        for n, pixels in source.iter_frames():
            assert np.array_equal(pixels, truth[n]), n


def test_landing_on_a_keyframe_decodes_one_frame(clip: tuple[Path, np.ndarray]) -> None:
    path, truth = clip
    index = load_video_index(path, None)
    cursor = VideoCursor(path, index)
    try:
        before = cursor.frames_decoded
        cursor.seek(250)
        assert cursor.pos == 250
        assert cursor.frames_decoded - before == 1  # not the 250 frames of the group before
        assert np.array_equal(cursor.retrieve(), truth[250])
        cursor.seek(258)  # on the way: decoding on beats a seek
        assert cursor.seeks == 1
        while cursor.pos is not None and cursor.pos < 258:
            cursor.advance()
        assert np.array_equal(cursor.retrieve(), truth[258])
    finally:
        cursor.close()


def test_steps_back_after_a_landing_come_from_memory_and_are_exact(
    clip: tuple[Path, np.ndarray],
) -> None:
    path, truth = clip
    with VideoFrameSource(path, cache_mb=64, readahead=8, cache_index=False) as source:
        landed = 262  # 12 frames into the second group
        assert np.array_equal(source.frame(landed), truth[landed])
        assert landed - 1 in source.cache  # kept on the way: the first step back is a hit
        # Paused: the span before the frame fills in the background, across the keyframe.
        span = range(landed - 32, landed)
        assert _wait_until(lambda: not source.cache.missing(span))
        hits = source.cache.hits
        for n in reversed(span):
            assert np.array_equal(source.frame(n), truth[n]), n
        assert source.cache.hits - hits == len(span)
        assert source.cache.bytes_held <= source.cache.capacity_bytes


def test_a_jump_cancels_the_back_fill_and_stays_exact(clip: tuple[Path, np.ndarray]) -> None:
    path, truth = clip
    with VideoFrameSource(path, cache_mb=64, readahead=8, cache_index=False) as source:
        for n in (270, 40, 290, 5, 251, 249):
            assert np.array_equal(source.frame(n), truth[n]), n
            assert np.array_equal(source.frame(n - 1), truth[n - 1]), n - 1
            assert np.array_equal(source.frame(n + 1), truth[n + 1]), n + 1


def test_transcodes_get_a_keyframe_every_second(tmp_path: Path) -> None:
    src = tmp_path / "in.avi"
    subprocess.run(
        [
            *FFMPEG,
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25",
            "-frames:v",
            "100",
            "-c:v",
            "mpeg4",
            "-g",
            "300",
            str(src),
        ],
        check=True,
    )
    out = ensure_browser_playable(src, probe_video(src), tmp_path / "out.mp4")
    assert out is not None
    index = load_video_index(out, None)
    keys = sorted({index.keyframe_of(n) for n in range(index.frame_count)})
    assert keys == list(range(0, 100, 25))
    assert keyframe_interval(25.0) == 25 and keyframe_interval(0.0) == 30
