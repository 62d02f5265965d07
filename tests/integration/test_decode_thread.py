"""The sequential decoder's threads and hand-over: a light stream decodes on one core and hands
its frames over in batches, every other stream keeps ffmpeg's threads, and either way every
frame is the one ffmpeg decodes from the start, in order, with errors and stops on time."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from iamedic_desktop.media import video_cursor
from iamedic_desktop.media.decode_thread import HANDOVER_BYTES, DecodeThread, batch_for
from iamedic_desktop.media.video_cursor import IndexMismatchError, decoder_threads, to_rgb
from iamedic_desktop.media.video_index import load_video_index
from iamedic_desktop.media.video_source import VideoFrameSource
from tests.media_samples import VideoSpec, make_video, reference_frames

BASELINE = VideoSpec("h264_baseline", frames=80, extra=("-profile:v", "baseline"))
HIGH = VideoSpec("h264_high", frames=40, extra=("-profile:v", "high", "-bf", "2"))


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("decode_thread")
    return {spec.name: make_video(spec, directory) for spec in (BASELINE, HIGH)}


def _stream_threads(path: Path, cores: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    monkeypatch.setattr(video_cursor, "_cores", lambda: cores)
    with av.open(str(path)) as container:
        return decoder_threads(container.streams.video[0], beside_conversion=True)


def test_a_light_stream_leaves_the_converting_thread_a_core(
    videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    light, heavy = videos["h264_baseline"], videos["h264_high"]
    assert _stream_threads(light, 2, monkeypatch) == ("NONE", 1)
    assert _stream_threads(light, 8, monkeypatch) == ("FRAME", 7)
    assert _stream_threads(heavy, 2, monkeypatch) == ("AUTO", 0)  # CABAC, B-frames: all threads
    with av.open(str(light)) as container:  # random access keeps every thread
        assert decoder_threads(container.streams.video[0], beside_conversion=False) == ("AUTO", 0)


def test_hand_over_batches_stay_within_their_memory() -> None:
    assert batch_for(320, 240, 4) == 16
    assert batch_for(1280, 720, 4) == 12
    assert batch_for(1920, 1080, 4) == 5
    assert batch_for(3840, 2160, 4) == 1
    for width, height in ((1280, 720), (1920, 1080)):
        assert 4 * batch_for(width, height, 4) * width * height * 3 // 2 <= HANDOVER_BYTES


@pytest.mark.parametrize("name", ["h264_baseline", "h264_high"])
def test_every_frame_in_order_whatever_the_hand_over(videos: dict[str, Path], name: str) -> None:
    path = videos[name]
    truth = reference_frames(path)
    index = load_video_index(path, None)
    decoder = DecodeThread(path, index, 5, len(truth) - 1, rgb=False, ahead=2)
    try:
        got = [(n, to_rgb(frame, index, path, n)) for n, frame, _ in decoder.items()]
        assert decoder.batch == (16 if name == "h264_baseline" else 1)
    finally:
        decoder.stop()
    assert [n for n, _ in got] == list(range(5, len(truth)))
    assert all(np.array_equal(pixels, truth[n]) for n, pixels in got)
    with VideoFrameSource(path, readahead=0, cache_index=False) as source:
        assert all(np.array_equal(p, truth[n]) for n, p in source.iter_frames())


def test_an_error_comes_after_the_frames_of_its_batch(
    videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = videos["h264_baseline"]
    index = load_video_index(path, None)
    advance = video_cursor.VideoCursor.advance

    def failing(self: video_cursor.VideoCursor) -> int | None:
        if self.pos == 20:
            raise IndexMismatchError("frame 21 is not where the index says")
        return advance(self)

    monkeypatch.setattr(video_cursor.VideoCursor, "advance", failing)
    decoder = DecodeThread(path, index, 0, 79, rgb=False)
    seen: list[int] = []
    try:
        with pytest.raises(IndexMismatchError, match="frame 21"):
            for n, _, _ in decoder.items():
                seen.append(n)
    finally:
        decoder.stop()
    assert seen == list(range(21))  # frames 16-20 waited in a batch that had not filled


def test_a_stop_ends_a_batched_decoder_waiting_for_room(videos: dict[str, Path]) -> None:
    path = videos["h264_baseline"]
    decoder = DecodeThread(path, load_video_index(path, None), 0, 79, rgb=False, ahead=1)
    first = next(iter(decoder.items()))
    assert first[0] == 0
    decoder.stop()  # the thread waits with a full queue: it must end, not hang
    assert not decoder.alive
