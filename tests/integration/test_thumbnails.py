"""Thumbnails, timeline strips (keyframes, disk cache, cancel) and the video preview JPEG."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.core.progress import CancelledError, CancelToken
from iamedic_desktop.media.open_source import open_frame_source
from iamedic_desktop.media.preview import preview_time, video_preview_jpeg
from iamedic_desktop.media.thumbnails import (
    fit_size,
    frame_thumbnail_jpeg,
    slot_times,
    thumbnail,
    timeline_strip,
)
from tests.media_samples import VIDEO_SPECS, VideoSpec, make_video, reference_frames

# 8 s at 25 fps with a keyframe every second: a strip's thumbnails are those keyframes.
LONG = VideoSpec("eight_seconds", width=192, height=108, frames=200, gop=25, extra=("-bf", "2"))


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("thumbnail_media")
    make_video(LONG, directory)
    make_video(VIDEO_SPECS["rotated_phone_mp4"], directory)
    make_video(VideoSpec("short", frames=8), directory)  # 0.32 s
    make_video(VideoSpec("five_seconds", width=400, height=300, frames=125), directory)
    return directory


def _shrunk(frame: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    import cv2

    return cv2.resize(frame, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _closest(image: np.ndarray, frames: list[np.ndarray]) -> int:
    diffs = [np.abs(_shrunk(f, image.shape).astype(int) - image).mean() for f in frames]
    return int(np.argmin(diffs))


def test_thumbnail_of_a_frame_fits_and_keeps_the_aspect(media: Path) -> None:
    with open_frame_source(media / "eight_seconds.mp4") as source:  # type: ignore[attr-defined]
        small = thumbnail(source, 30, max_size=(96, 96))
        assert small.shape == (54, 96, 3)
        assert np.abs(_shrunk(source.frame(30), small.shape).astype(int) - small).max() == 0
        same = thumbnail(source, 30, max_size=(400, 400))  # never enlarged
        assert same.shape == (108, 192, 3)
        same[0, 0] = 0  # a copy: the cached frame is untouched
        assert np.array_equal(source.frame(30)[1:], same[1:])
        jpeg = frame_thumbnail_jpeg(source, 30)
        assert jpeg[:2] == b"\xff\xd8"
    assert fit_size(1280, 720, (128, 128)) == (128, 72)
    assert fit_size(3, 1000, (64, 48)) == (1, 48)


def test_strip_is_evenly_spaced_keyframes(media: Path, tmp_path: Path) -> None:
    path = media / "eight_seconds.mp4"
    reference = reference_frames(path)
    seen: list[tuple[int, float]] = []
    strip = timeline_strip(
        path, 8, height=54, cache_dir=tmp_path, on_thumb=lambda i, t, _: seen.append((i, t))
    )
    assert len(strip) == 8
    assert [t for t, _ in strip] == pytest.approx(slot_times(8.0, 8))
    assert [t for t, _ in strip] == pytest.approx([0.5 + i for i in range(8)])
    assert sorted(seen) == [(i, t) for i, (t, _) in enumerate(strip)]
    keyframes = reference[::25]  # one a second
    for i, (_, image) in enumerate(strip):
        assert image.shape == (54, 96, 3) and image.dtype == np.uint8
        assert _closest(image, keyframes) == i  # the keyframe at or before the slot's time


def test_second_strip_comes_from_the_disk_cache(media: Path, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes((media / "eight_seconds.mp4").read_bytes())
    first = timeline_strip(path, 6, cache_dir=tmp_path / "cache")
    # Replace every byte but keep size and time: a decode now would fail or differ.
    stat = path.stat()
    path.write_bytes(bytes(stat.st_size))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = timeline_strip(path, 6, cache_dir=tmp_path / "cache")
    assert [t for t, _ in second] == [t for t, _ in first]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(first, second, strict=True))
    assert first[0][1].shape == (72, 128, 3)


def test_rotated_clip_gives_portrait_thumbnails(media: Path, tmp_path: Path) -> None:
    strip = timeline_strip(media / "rotated_phone_mp4.mp4", 3, height=64, cache_dir=tmp_path)
    assert [image.shape for _, image in strip] == [(64, 36, 3)] * 3


def test_cancel_stops_the_strip(media: Path, tmp_path: Path) -> None:
    path = media / "eight_seconds.mp4"
    ready = CancelToken()
    ready.cancel()
    with pytest.raises(CancelledError):
        timeline_strip(path, 20, cache_dir=tmp_path, cancel=ready)
    assert not list(tmp_path.rglob("*.png"))

    token = CancelToken()
    delivered: list[int] = []

    def first_then_cancel(i: int, _t: float, _image: np.ndarray) -> None:
        delivered.append(i)
        token.cancel()

    with pytest.raises(CancelledError):
        timeline_strip(path, 20, cache_dir=tmp_path, cancel=token, on_thumb=first_then_cancel)
    assert len(delivered) == 1
    assert not list(tmp_path.rglob(".strip-*"))  # the scratch folder is gone
    kept = len(list(tmp_path.rglob("*.png")))
    assert 1 <= kept < 20
    # what was finished is reused; the rest is made now
    assert len(timeline_strip(path, 20, cache_dir=tmp_path)) == 20


def test_strip_of_a_dicom_cine(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    path = Path(str(get_testdata_file("examples_ybr_color.dcm")))
    strip = timeline_strip(path, 5, height=40, cache_dir=tmp_path)
    assert len(strip) == 5
    assert [t for t, _ in strip] == pytest.approx(slot_times(30 / 30.0, 5))
    assert all(image.shape[0] == 40 for _, image in strip)


def _probe_size(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-show_entries", "stream=width,height"),
            *("-of", "csv=p=0", str(path)),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    width, height = out.split(",")
    return int(width), int(height)


@pytest.mark.parametrize(
    ("name", "expected_time", "size"),
    [("short", 0.032, (320, 240)), ("five_seconds", 0.5, (320, 240))],
)
def test_video_preview_jpeg(
    media: Path, tmp_path: Path, name: str, expected_time: float, size: tuple[int, int]
) -> None:
    import cv2

    path = media / f"{name}.mp4"
    out = video_preview_jpeg(path, tmp_path / "previews" / "p.jpg")
    assert out == tmp_path / "previews" / "p.jpg"
    assert out.read_bytes()[:2] == b"\xff\xd8"
    assert _probe_size(out) == size
    assert list(out.parent.iterdir()) == [out]  # no temporary file left
    bgr = cv2.imread(str(out))
    assert bgr is not None
    image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    reference = reference_frames(path)
    # the first frame at or after the preview time (25 fps: frame k at k * 0.04 s)
    assert _closest(image, reference) == int(np.ceil(expected_time / 0.04 - 1e-9))
    assert preview_time(0.3) == pytest.approx(0.03)
    assert preview_time(5.0) == 0.5


def test_preview_of_a_portrait_clip_fits(media: Path, tmp_path: Path) -> None:
    out = video_preview_jpeg(media / "rotated_phone_mp4.mp4", tmp_path / "p.jpg")
    assert _probe_size(out) == (135, 240)
