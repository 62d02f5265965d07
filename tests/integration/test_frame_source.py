"""Frame sources on real files: every frame exact against ffmpeg's decode from the start.

Videos of several codecs and containers (B-frames, VP8/VP9, MPEG-4 AVI, MJPEG, odd size, a
rotated phone clip, variable frame rate), files whose headers lie about their frame count, a
stream without timestamps, stills with EXIF orientation, and a DICOM cine.
"""

from __future__ import annotations

import itertools
import json
import random
import struct
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.frame_source import FrameSource
from iamedic_desktop.media.open_source import open_frame_source
from iamedic_desktop.media.still_source import StillFrameSource
from iamedic_desktop.media.video_source import VideoFrameSource
from tests.media_samples import VIDEO_SPECS, VideoSpec, make_image, make_video, reference_frames

FFMPEG = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]


@dataclass
class Sample:
    path: Path
    frames: list[np.ndarray]


def _ffprobe_frame_pts(path: Path) -> list[Fraction]:
    """Presentation times of the decoded frames, as ffprobe reports them (seconds)."""
    out = subprocess.run(
        [
            "ffprobe",
            *("-v", "error", "-select_streams", "v:0"),
            *("-show_entries", "frame=best_effort_timestamp:stream=time_base", "-of", "json"),
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    base = Fraction(data["streams"][0]["time_base"])
    return [int(f["best_effort_timestamp"]) * base for f in data["frames"]]


def _lying_avi(source: Path, out: Path, claimed: int) -> Path:
    """A copy of an AVI whose headers claim ``claimed`` frames."""
    data = bytearray(source.read_bytes())
    avih = data.find(b"avih")
    struct.pack_into("<I", data, avih + 8 + 16, claimed)  # dwTotalFrames
    strh = data.find(b"strh")
    struct.pack_into("<I", data, strh + 8 + 32, claimed)  # dwLength of the video stream
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    directory = tmp_path_factory.mktemp("frame_source_media")
    made = {}
    for name, spec in VIDEO_SPECS.items():
        path = make_video(spec, directory)
        made[name] = Sample(path, reference_frames(path))
    # Trimmed by stream copy off a keyframe: the header counts a frame that is never shown.
    trimmed = directory / "trimmed_copy.mp4"
    cut = ["-ss", "0.5", "-i", str(made["h264_mp4"].path), "-c", "copy", str(trimmed)]
    subprocess.run([*FFMPEG, *cut], check=True)
    made["trimmed_copy"] = Sample(trimmed, reference_frames(trimmed))
    lying = _lying_avi(made["mpeg4_avi"].path, directory / "lying_header.avi", claimed=30)
    made["lying_header"] = Sample(lying, reference_frames(lying))
    # MPEG-4 with B-frames in AVI: most packets carry no presentation timestamp.
    no_pts = directory / "bframes_no_pts.avi"
    encode = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "40"]
    subprocess.run([*FFMPEG, *encode, "-c:v", "mpeg4", "-bf", "2", "-g", "12", str(no_pts)])
    made["no_pts"] = Sample(no_pts, reference_frames(no_pts))
    return made


def _open(sample: Sample, **kwargs: int) -> VideoFrameSource:
    source = open_frame_source(sample.path, **kwargs)
    assert isinstance(source, VideoFrameSource)
    return source


ALL = [*VIDEO_SPECS, "trimmed_copy", "lying_header", "no_pts"]


@pytest.mark.parametrize("name", ALL)
def test_every_frame_is_exact_in_any_order(samples: dict[str, Sample], name: str) -> None:
    sample = samples[name]
    reference = sample.frames
    with _open(sample, cache_mb=1, readahead=4) as source:  # 1 MB: a few frames, evictions
        assert isinstance(source, FrameSource)
        assert source.frame_count == len(reference)
        assert (source.height, source.width, 3) == reference[0].shape
        order = list(range(len(reference)))
        random.Random(3).shuffle(order)
        backwards = list(range(len(reference) - 1, -1, -1))
        held = 0
        for n in [*order, *backwards, *range(len(reference))]:
            pixels = source.frame(n)
            assert pixels.dtype == np.uint8 and pixels.flags.c_contiguous
            assert np.array_equal(pixels, reference[n]), f"{name}: frame {n} differs"
            held = max(held, source.cache.bytes_held)
        assert 0 < held <= 1024 * 1024


@pytest.mark.parametrize("name", ALL)
def test_sequential_frames_and_timestamps(samples: dict[str, Sample], name: str) -> None:
    sample = samples[name]
    reference = sample.frames
    with _open(sample, readahead=0) as source:
        decoded = list(source.iter_frames())
        assert [n for n, _ in decoded] == list(range(len(reference)))
        assert all(np.array_equal(f, reference[n]) for n, f in decoded)
        middle = list(source.iter_frames(7, 19))
        assert [n for n, _ in middle] == list(range(7, 19))
        assert all(np.array_equal(f, reference[n]) for n, f in middle)
        times = [source.timestamp(n) for n in range(source.frame_count)]
        assert times[0] == 0.0
        assert all(b > a for a, b in itertools.pairwise(times))
        assert all(source.index_at(t) == n for n, t in enumerate(times))
        assert source.index_at(-1.0) == 0
        assert source.index_at(times[-1] + 60) == source.frame_count - 1
        assert source.fps > 0


def test_variable_frame_rate_timestamps_are_the_presentation_times(
    samples: dict[str, Sample],
) -> None:
    sample = samples["vfr_mp4"]
    pts = _ffprobe_frame_pts(sample.path)
    with _open(sample) as source:
        assert source.frame_count == len(pts) == 60
        for n, t in enumerate(pts):
            assert source.timestamp(n) == pytest.approx(float(t - pts[0]), abs=1e-9)
            # midway between two frames still shows the earlier one
            if n + 1 < len(pts):
                assert source.index_at(float((t + pts[n + 1]) / 2 - pts[0])) == n
        gaps = {round(source.timestamp(n + 1) - source.timestamp(n), 3) for n in range(59)}
        assert len(gaps) > 1  # really variable


def test_header_counts_are_not_trusted(samples: dict[str, Sample]) -> None:
    lying = samples["lying_header"]
    with _open(lying) as source:
        assert source.index.header_frames == 30
        assert source.frame_count == 50
        assert np.array_equal(source.frame(49), lying.frames[49])
        assert np.array_equal(source.frame(35), lying.frames[35])
    trimmed = samples["trimmed_copy"]
    with _open(trimmed) as source:
        assert source.index.header_frames == len(trimmed.frames) + 1
        assert source.frame_count == len(trimmed.frames)
        assert np.array_equal(source.frame(0), trimmed.frames[0])


def test_stream_without_timestamps_is_indexed_by_decoding(samples: dict[str, Sample]) -> None:
    sample = samples["no_pts"]
    with _open(sample) as source:
        assert not source.index.seekable
        assert source.frame_count == len(sample.frames) == 40
        assert np.array_equal(source.frame(33), sample.frames[33])
        assert np.array_equal(source.frame(2), sample.frames[2])


def test_rotation_is_applied_exactly_once(samples: dict[str, Sample]) -> None:
    spec = VIDEO_SPECS["rotated_phone_mp4"]
    with _open(samples["rotated_phone_mp4"]) as source:
        assert (source.width, source.height) == (spec.height, spec.width)  # portrait
        assert source.frame(10).shape == (spec.width, spec.height, 3)


def test_index_is_cached_on_disk(samples: dict[str, Sample], tmp_path: Path) -> None:
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(samples["h264_mp4"].path.read_bytes())
    with _open(Sample(copy, [])) as source:
        assert source.frame_count == 50
    cached = list((tmp_path / "cache" / "video-index").glob("*.npz"))
    assert len(cached) == 1
    # A cached index is used as is: a different file of the same name gets its own entry.
    copy.write_bytes(samples["vfr_mp4"].path.read_bytes())
    with _open(Sample(copy, [])) as source:
        assert source.frame_count == 60
    assert len(list((tmp_path / "cache" / "video-index").glob("*.npz"))) == 2


def _readahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("iamedic-readahead")]


def _wait_until(condition: object, seconds: float = 20.0) -> bool:
    """Poll ``condition`` until true or the deadline (an Event's wait, never a sleep)."""
    import time

    deadline = time.monotonic() + seconds
    tick = threading.Event()
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        tick.wait(0.01)
    return False


def test_read_ahead_fills_the_cache_and_stops_on_close(samples: dict[str, Sample]) -> None:
    sample = samples["h264_bframes_mp4"]
    source = _open(sample, cache_mb=64, readahead=8)
    try:
        assert not _readahead_threads()  # started on first use only
        source.frame(20)
        assert len(_readahead_threads()) == 1
        assert _wait_until(lambda: all(n in source.cache for n in range(21, 29)))
        hits = source.cache.hits
        for n in range(21, 29):
            assert np.array_equal(source.frame(n), sample.frames[n])
        assert source.cache.hits - hits == 8  # each step forward was a cache hit
        # stepping back: the frames before the playhead are decoded too
        source.frame(45)
        source.frame(44)
        assert _wait_until(lambda: all(n in source.cache for n in range(36, 44)))
        for n in range(43, 35, -1):
            assert np.array_equal(source.frame(n), sample.frames[n])
    finally:
        source.close()
    assert not _readahead_threads()
    with pytest.raises(InvalidInputError, match="closed"):
        source.frame(3)


def test_concurrent_frames_with_read_ahead_stay_exact(samples: dict[str, Sample]) -> None:
    sample = samples["vfr_mp4"]
    reference = sample.frames
    failures: list[str] = []
    with _open(sample, cache_mb=2, readahead=6) as source:

        def consumer(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(60):
                n = rng.randrange(len(reference))
                for m in (n, min(n + 1, len(reference) - 1), max(n - 1, 0)):
                    if not np.array_equal(source.frame(m), reference[m]):
                        failures.append(f"frame {m}")

        threads = [threading.Thread(target=consumer, args=(seed,)) for seed in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert source.cache.bytes_held <= 2 * 1024 * 1024
    assert failures == []
    assert not _readahead_threads()


def test_frames_outside_the_video_are_refused(samples: dict[str, Sample]) -> None:
    with _open(samples["h264_mp4"]) as source:
        for n in (-1, 50):
            with pytest.raises(InvalidInputError, match="outside"):
                source.frame(n)
        assert list(source.iter_frames(60, 70)) == []


def test_cached_frames_are_read_only(samples: dict[str, Sample]) -> None:
    with _open(samples["h264_mp4"]) as source:
        pixels = source.frame(5)
        with pytest.raises(ValueError):
            pixels[0, 0, 0] = 1


def test_still_with_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    png = make_image(tmp_path, "scan.png", size=(64, 48))
    rgb = np.asarray(Image.open(png).convert("RGB"))
    jpeg = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise to display
    Image.fromarray(rgb).save(jpeg, quality=95, exif=exif)
    source = open_frame_source(jpeg)
    assert isinstance(source, StillFrameSource)
    assert (source.frame_count, source.fps, source.width, source.height) == (1, 0.0, 48, 64)
    assert source.timestamp(0) == 0.0 and source.index_at(12.5) == 0
    frame = source.frame(0)
    assert frame.shape == (64, 48, 3)
    # the top-left pixel shown is the bottom-left pixel stored (within JPEG's error)
    assert np.abs(frame[0, 0].astype(int) - rgb[-1, 0].astype(int)).max() < 24
    assert [n for n, _ in source.iter_frames()] == [0]
    with pytest.raises(InvalidInputError):
        source.frame(1)
    source.close()
    flat = open_frame_source(png)
    assert np.array_equal(flat.frame(0), rgb)


def test_dicom_cine_and_refusals(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    cine = open_frame_source(Path(str(get_testdata_file("examples_ybr_color.dcm"))))
    try:
        assert cine.frame_count == 30
        assert cine.frame(29).shape == (cine.height, cine.width, 3)
    finally:
        cine.close()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 20)
    with pytest.raises(InvalidInputError):
        open_frame_source(text)
    with pytest.raises(Exception, match="does not exist"):
        open_frame_source(tmp_path / "missing.mp4")


def test_a_small_cache_makes_no_read_ahead(tmp_path: Path) -> None:
    spec = VideoSpec("big_frames", width=640, height=480, frames=12)
    path = make_video(spec, tmp_path)
    with VideoFrameSource(path, cache_mb=1, readahead=24) as source:  # 1 MB < 2 frames
        assert np.array_equal(source.frame(6), reference_frames(path)[6])
        assert not _readahead_threads()


def test_sixteen_bit_and_palette_stills(tmp_path: Path) -> None:
    from PIL import Image

    grey = (np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50).astype(np.uint16)
    deep = tmp_path / "deep.png"
    Image.fromarray(grey).save(deep)
    frame = open_frame_source(deep).frame(0)
    assert frame.shape == (30, 40, 3)
    assert frame[-1, -1].tolist() == [255, 255, 255] and frame[0, 0].tolist() == [0, 0, 0]
    assert np.array_equal(frame[..., 0], frame[..., 2])
    palette = tmp_path / "palette.png"
    solid = Image.fromarray(np.full((8, 8, 3), (10, 200, 30), np.uint8))
    solid.convert("P", palette=Image.Palette.ADAPTIVE).save(palette)
    assert open_frame_source(palette).frame(0)[4, 4].tolist() == [10, 200, 30]
