"""The player panel: transport and timeline driving a real player over real media."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from iamedic_desktop.models.central import MediaType
from iamedic_desktop.ui.frame_worker import rgb_from_qimage
from iamedic_desktop.ui.player_controller import PlayerController
from iamedic_desktop.ui.player_panel import PlayerPanel
from iamedic_desktop.ui.timeline_widget import RULER_H
from tests.gui.player_media import media_dto, sample_video, stored_dicom_cine
from tests.media_samples import make_image, reference_frames

pytestmark = pytest.mark.gui

TIMEOUT_MS = 20_000


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[PlayerPanel]:
    controller = PlayerController()
    widget = PlayerPanel(controller)
    qtbot.addWidget(widget)
    widget.resize(900, widget.sizeHint().height())
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    controller.close_media()
    assert widget.thumbnails.is_idle()
    assert controller.worker_thread is None


def _open(qtbot: QtBot, panel: PlayerPanel, path: Path, kind: MediaType = MediaType.VIDEO) -> None:
    player = panel.controller
    with qtbot.waitSignal(player.media_opened, timeout=TIMEOUT_MS):
        player.open_media(path, media_dto(path, kind))
    qtbot.waitUntil(lambda: player.shown_frame == 0, timeout=TIMEOUT_MS)


def test_opening_a_video_fills_the_transport_and_the_timeline(
    qtbot: QtBot, panel: PlayerPanel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    _open(qtbot, panel, path)
    transport, timeline = panel.transport, panel.timeline
    assert transport.frame_total.text() == "/ 49"
    assert transport.fps_label.text() == "25.00 fps"
    assert transport.play_button.isEnabled() and panel.extract_button.isEnabled()
    assert timeline.view_range() == (0.0, 50.0)
    # The overview strip arrives progressively, off the UI thread, and is painted.
    qtbot.waitUntil(panel.thumbnails.is_idle, timeout=TIMEOUT_MS)
    middle = timeline.grab().toImage().pixelColor(timeline.width() // 2, RULER_H + 27)
    assert middle.getRgb()[:3] != (11, 11, 12)  # no longer the empty strip's black


def test_clicking_the_timeline_shows_that_exact_frame(
    qtbot: QtBot, panel: PlayerPanel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    truth = reference_frames(path)
    _open(qtbot, panel, path)
    timeline = panel.timeline
    x = round(timeline.x_of(31))
    with qtbot.waitSignal(
        panel.controller.frame_ready, timeout=TIMEOUT_MS, check_params_cb=lambda n, _: n == 31
    ) as ready:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, RULER_H + 20))
    np.testing.assert_array_equal(rgb_from_qimage(ready.args[1]), truth[31])
    assert panel.transport.frame_box.value() == 31
    assert panel.transport.time_box.text() == "0:01.240"


def test_typed_frame_and_time_and_steps_move_the_player(
    qtbot: QtBot, panel: PlayerPanel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    _open(qtbot, panel, path)
    player, transport = panel.controller, panel.transport
    transport.frame_box.setFocus()
    transport.frame_box.lineEdit().selectAll()
    qtbot.keyClicks(transport.frame_box, "20")
    with qtbot.waitSignal(player.position_changed, timeout=TIMEOUT_MS) as moved:
        qtbot.keyClick(transport.frame_box, Qt.Key.Key_Return)
    assert moved.args == [20, pytest.approx(0.8)]
    transport.time_box.setFocus()
    transport.time_box.selectAll()
    qtbot.keyClicks(transport.time_box, "1.5")
    with qtbot.waitSignal(player.position_changed, timeout=TIMEOUT_MS) as moved:
        qtbot.keyClick(transport.time_box, Qt.Key.Key_Return)
    assert moved.args[0] == 37  # the frame on screen at 1.5 s of a 25 fps clip
    with qtbot.waitSignal(player.position_changed, timeout=TIMEOUT_MS) as moved:
        qtbot.mouseClick(transport.back10_button, Qt.MouseButton.LeftButton)
    assert moved.args[0] == 27
    with qtbot.waitSignal(player.position_changed, timeout=TIMEOUT_MS) as moved:
        qtbot.mouseClick(transport.end_button, Qt.MouseButton.LeftButton)
    assert moved.args[0] == 49
    assert panel.timeline.x_of(49) > panel.timeline.x_of(27)


def test_extract_button_asks_for_the_current_frame(
    qtbot: QtBot, panel: PlayerPanel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    _open(qtbot, panel, path)
    with qtbot.waitSignal(panel.controller.frame_ready, timeout=TIMEOUT_MS):
        panel.controller.seek(12)
    with qtbot.waitSignal(panel.extract_requested) as asked:
        qtbot.mouseClick(panel.extract_button, Qt.MouseButton.LeftButton)
    assert asked.args == [12]


def test_loop_in_and_out_set_the_players_loop(
    qtbot: QtBot, panel: PlayerPanel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    _open(qtbot, panel, path)
    player, transport = panel.controller, panel.transport
    player.seek(5)
    qtbot.mouseClick(transport.loop_in_button, Qt.MouseButton.LeftButton)
    assert player.loop == (5, 49)
    player.seek(9)
    qtbot.mouseClick(transport.loop_out_button, Qt.MouseButton.LeftButton)
    assert player.loop == (5, 9)
    assert transport.loop_label.text() == "Loop 5–9"
    qtbot.mouseClick(transport.loop_clear_button, Qt.MouseButton.LeftButton)
    assert player.loop is None and transport.loop_label.text() == ""


def test_a_still_image_disables_the_transport_and_extraction(
    qtbot: QtBot, panel: PlayerPanel, tmp_path: Path
) -> None:
    path = make_image(tmp_path, "still.png")
    _open(qtbot, panel, path, MediaType.IMAGE)
    assert not panel.transport.play_button.isEnabled()
    assert not panel.extract_button.isEnabled()
    assert not panel.timeline.isEnabled()
    assert panel.transport.fps_label.text() == "Still image"


@pytest.mark.slow
def test_a_dicom_cine_shows_its_own_frame_rate(qtbot: QtBot, panel: PlayerPanel) -> None:
    path, media = stored_dicom_cine()
    with qtbot.waitSignal(panel.controller.media_opened, timeout=TIMEOUT_MS):
        panel.controller.open_media(path, media)
    assert panel.transport.fps_label.text() == "30.00 fps"
    assert panel.transport.frame_total.text() == "/ 29"
    qtbot.waitUntil(panel.thumbnails.is_idle, timeout=TIMEOUT_MS)


def test_closing_the_media_clears_the_panel(
    qtbot: QtBot, panel: PlayerPanel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = sample_video(tmp_path_factory.getbasetemp() / "media")
    _open(qtbot, panel, path)
    with qtbot.waitSignal(panel.controller.media_closed, timeout=TIMEOUT_MS):
        panel.controller.close_media()
    assert panel.thumbnails.is_idle()
    assert not panel.transport.play_button.isEnabled()
    assert panel.transport.fps_label.text() == ""
    assert not panel.extract_button.isEnabled()
