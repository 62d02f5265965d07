"""The player controller: exact frames off the UI thread, latest wins, drift-free playback."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.frame_worker import rgb_from_qimage
from iamedic_desktop.ui.player_controller import PlayerController, PlayerMediaInfo
from tests.gui.player_media import PLAY_SPEC, media_dto, sample_video, stored_dicom_cine
from tests.media_samples import reference_frames

pytestmark = pytest.mark.gui

TIMEOUT_MS = 20_000


class Painted:
    """Every frame_ready a canvas would paint, in order, with its pixels."""

    def __init__(self, controller: PlayerController) -> None:
        self.frames: list[int] = []
        self.images: list[QImage] = []
        controller.frame_ready.connect(self._on_frame)

    def _on_frame(self, frame: int, image: QImage) -> None:
        self.frames.append(frame)
        self.images.append(image)


@pytest.fixture
def controller(qtbot: QtBot) -> Iterator[PlayerController]:
    player = PlayerController()
    yield player
    player.close_media()
    assert not player.is_playing
    assert not player.is_open


def _open(qtbot: QtBot, player: PlayerController, path: Path) -> PlayerMediaInfo:
    with qtbot.waitSignal(player.media_opened, timeout=TIMEOUT_MS) as opened:
        player.open_media(path, media_dto(path))
    qtbot.waitUntil(lambda: player.shown_frame == 0, timeout=TIMEOUT_MS)
    info = opened.args[0]
    assert isinstance(info, PlayerMediaInfo)
    return info


def _seek(qtbot: QtBot, player: PlayerController, frame: int) -> QImage:
    with qtbot.waitSignal(
        player.frame_ready, timeout=TIMEOUT_MS, check_params_cb=lambda n, _: n == frame
    ) as ready:
        player.seek(frame)
    return ready.args[1]


@pytest.mark.parametrize("name", ["h264_bframes_mp4", "vfr_mp4", "mjpeg_mov"])
def test_seek_shows_exactly_frame_n(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media", name)
    truth = reference_frames(path)
    info = _open(qtbot, controller, path)
    assert info.frame_count == len(truth)
    assert info.is_video
    for n in (17, 3, len(truth) - 1, 0, 30):
        image = _seek(qtbot, controller, n)
        assert image.format() == QImage.Format.Format_RGB888
        np.testing.assert_array_equal(rgb_from_qimage(image), truth[n])
        assert controller.current_frame == n


def test_steps_forward_and_back_are_exact(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    truth = reference_frames(path)
    _open(qtbot, controller, path)
    positions: list[tuple[int, float]] = []
    controller.position_changed.connect(lambda n, s: positions.append((n, s)))
    expected = 0
    for delta in (1, 1, 10, -1, -10, -1, 25, 100, -200):
        expected = min(max(expected + delta, 0), len(truth) - 1)
        with qtbot.waitSignal(controller.frame_ready, timeout=TIMEOUT_MS) as ready:
            controller.step(delta)
        assert ready.args[0] == expected
        np.testing.assert_array_equal(rgb_from_qimage(ready.args[1]), truth[expected])
    assert positions[-1] == (0, 0.0)
    assert positions[2] == (12, pytest.approx(12 / 25))


def test_latest_seek_wins_and_nothing_stale_follows(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    truth = reference_frames(path)
    _open(qtbot, controller, path)
    painted = Painted(controller)
    targets = [(7 * k) % len(truth) for k in range(1, 51)]  # 50 seeks, faster than decoding
    for n in targets:
        controller.seek(n)
    qtbot.waitUntil(lambda: controller.is_idle, timeout=TIMEOUT_MS)
    assert painted.frames == [targets[-1]]  # only the newest was painted
    np.testing.assert_array_equal(rgb_from_qimage(painted.images[-1]), truth[targets[-1]])
    assert controller.shown_frame == controller.current_frame == targets[-1]


def _play_for(qtbot: QtBot, player: PlayerController, seconds: float) -> tuple[int, float]:
    """Play for ``seconds`` of wall time; the frame shown when it ends and the time it took."""
    started = time.monotonic()
    player.play()
    qtbot.waitUntil(lambda: time.monotonic() - started >= seconds, timeout=TIMEOUT_MS)
    frame = player.current_frame
    elapsed = time.monotonic() - started
    player.pause()
    return frame, elapsed


@pytest.mark.slow
def test_playback_follows_the_media_rate(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media", PLAY_SPEC.name)
    info = _open(qtbot, controller, path)
    assert info.fps == pytest.approx(25.0)
    painted = Painted(controller)
    frame, elapsed = _play_for(qtbot, controller, 1.0)
    assert frame == pytest.approx(elapsed * 25, abs=3)
    qtbot.waitUntil(lambda: controller.is_idle, timeout=TIMEOUT_MS)
    assert painted.frames == sorted(painted.frames)  # never backwards
    assert controller.stats.frames_shown + controller.dropped_frames == controller.stats.frames_due
    assert controller.dropped_frames <= 2  # a 320x240 clip decodes far faster than 25 fps
    assert controller.shown_frame == controller.current_frame  # paused on the exact frame


@pytest.mark.slow
def test_double_speed_plays_twice_as_many_frames(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media", PLAY_SPEC.name)
    _open(qtbot, controller, path)
    with qtbot.waitSignal(controller.speed_changed) as changed:
        controller.set_speed(2.0)
    assert changed.args == [2.0]
    frame, elapsed = _play_for(qtbot, controller, 1.0)
    assert frame == pytest.approx(elapsed * 50, abs=5)


@pytest.mark.slow
def test_loop_range_wraps(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media", PLAY_SPEC.name)
    _open(qtbot, controller, path)
    controller.set_loop(10, 14)
    painted = Painted(controller)
    controller.play()

    def wraps() -> int:
        frames = painted.frames
        return sum(1 for pair in itertools.pairwise(frames) if pair == (14, 10))

    qtbot.waitUntil(lambda: wraps() >= 2, timeout=TIMEOUT_MS)  # round the loop twice
    controller.pause()
    qtbot.waitUntil(lambda: controller.is_idle, timeout=TIMEOUT_MS)
    assert set(painted.frames) == {10, 11, 12, 13, 14}
    assert controller.is_playing is False


@pytest.mark.slow
def test_playing_to_the_end_stops_on_the_last_frame(
    qtbot: QtBot, controller: PlayerController, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    info = _open(qtbot, controller, path)
    controller.set_speed(4.0)
    controller.seek(info.frame_count - 20)
    with qtbot.waitSignal(controller.playing_changed, timeout=TIMEOUT_MS) as stopped:
        controller.play()
        qtbot.waitUntil(lambda: not controller.is_playing, timeout=TIMEOUT_MS)
    assert stopped.args == [True]
    qtbot.waitUntil(lambda: controller.shown_frame == info.frame_count - 1, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(controller.frame_ready, timeout=TIMEOUT_MS) as ready:
        controller.play()  # at the end: plays again from the start
    assert ready.args[0] == 0
    controller.pause()


@pytest.mark.slow
def test_a_stored_dicom_cine_plays_at_its_own_frame_rate(
    qtbot: QtBot, controller: PlayerController
) -> None:
    path, media = stored_dicom_cine()
    with qtbot.waitSignal(controller.media_opened, timeout=TIMEOUT_MS) as opened:
        controller.open_media(path, media)
    info = opened.args[0]
    assert (info.media_id, info.frame_count, info.fps) == (media.id, 30, pytest.approx(30.0))
    assert (info.width, info.height) == (320, 240)
    truth = reference_frames(path)
    image = _seek(qtbot, controller, 21)
    np.testing.assert_array_equal(rgb_from_qimage(image), truth[21])
    controller.seek(0)
    frame, elapsed = _play_for(qtbot, controller, 0.5)
    assert frame == pytest.approx(elapsed * 30, abs=3)


def test_a_still_image_is_one_frame_that_does_not_play(
    qtbot: QtBot, controller: PlayerController, tmp_path: Path
) -> None:
    from iamedic_desktop.models.central import MediaType
    from tests.media_samples import make_image

    path = make_image(tmp_path, "still.png", (64, 48))
    with qtbot.waitSignal(controller.frame_ready, timeout=TIMEOUT_MS) as ready:
        controller.open_media(path, media_dto(path, MediaType.IMAGE))
    info = controller.media_info
    assert info is not None and (info.frame_count, info.is_video) == (1, False)
    assert rgb_from_qimage(ready.args[1]).shape == (48, 64, 3)
    controller.play()
    assert not controller.is_playing


def test_an_unreadable_file_reports_an_error(
    qtbot: QtBot, controller: PlayerController, tmp_path: Path
) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00not a video" * 100)
    with qtbot.waitSignal(controller.error, timeout=TIMEOUT_MS) as failed:
        controller.open_media(path, media_dto(path))
    assert "broken.mp4" in failed.args[0]
    assert controller.media_info is None


def test_close_media_stops_the_thread_and_the_timer(
    qtbot: QtBot, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media", PLAY_SPEC.name)
    player = PlayerController()
    _open(qtbot, player, path)
    first = player.worker_thread
    assert first is not None and first.isRunning()
    ended: list[str] = []
    first.finished.connect(lambda: ended.append("first"))
    _open(qtbot, player, path)  # opening another media retires the first worker
    second = player.worker_thread
    player.play()
    with qtbot.waitSignal(player.media_closed, timeout=TIMEOUT_MS):
        player.close_media()
    assert second is not None and second.isFinished()
    qtbot.waitUntil(lambda: ended == ["first"], timeout=TIMEOUT_MS)
    assert not player.is_playing and player.worker_thread is None
    # The source was closed on its thread: its read-ahead decoder is gone too.
    assert not [t for t in threading.enumerate() if t.name.startswith("iamedic-readahead")]
    assert player.media_info is None
    player.seek(3)  # nothing open: ignored
    assert player.shown_frame is None
