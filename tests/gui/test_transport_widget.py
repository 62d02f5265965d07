"""The transport bar: what the user asks for, what the player reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.player_controller import PlayerMediaInfo
from iamedic_desktop.ui.transport_widget import TransportWidget, format_time, parse_time

pytestmark = pytest.mark.gui

VIDEO = PlayerMediaInfo(
    media_id=None, frame_count=300, fps=29.97, width=640, height=480, duration=10.01, is_video=True
)
STILL = PlayerMediaInfo(
    media_id=None, frame_count=1, fps=0.0, width=64, height=48, duration=0.0, is_video=False
)


@pytest.fixture
def transport(qtbot: QtBot) -> Iterator[TransportWidget]:
    widget = TransportWidget()
    qtbot.addWidget(widget)
    widget.set_media(VIDEO)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def test_times_are_read_and_written_like_a_clock() -> None:
    assert format_time(0) == "0:00.000"
    assert format_time(83.4567) == "1:23.457"
    assert format_time(3725.5) == "1:02:05.500"
    assert parse_time("12.5") == 12.5
    assert parse_time("1:02.25") == 62.25
    assert parse_time("1:02:03") == 3723
    assert parse_time(" 4,5 s ") == 4.5
    assert parse_time("later") is None
    assert parse_time(format_time(83.457)) == pytest.approx(83.457)


def test_labels_show_the_frame_time_and_rate(transport: TransportWidget) -> None:
    assert transport.frame_total.text() == "/ 299"
    assert transport.duration_label.text() == "/ 0:10.010"
    assert transport.fps_label.text() == "29.97 fps"
    transport.set_position(150, 5.005)
    assert transport.frame_box.value() == 150
    assert transport.time_box.text() == "0:05.005"
    transport.set_loop((10, 20))
    assert transport.loop_label.text() == "Loop 10–20"
    assert transport.loop_clear_button.isEnabled()


def test_buttons_ask_the_player(qtbot: QtBot, transport: TransportWidget) -> None:
    with qtbot.waitSignal(transport.play_pause_clicked):
        qtbot.mouseClick(transport.play_button, Qt.MouseButton.LeftButton)
    steps: list[int] = []
    transport.step_requested.connect(steps.append)
    for button in (
        transport.back10_button,
        transport.back_button,
        transport.forward_button,
        transport.forward10_button,
    ):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert steps == [-10, -1, 1, 10]
    with qtbot.waitSignal(transport.start_requested):
        qtbot.mouseClick(transport.start_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(transport.end_requested):
        qtbot.mouseClick(transport.end_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(transport.loop_in_clicked):
        qtbot.mouseClick(transport.loop_in_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(transport.loop_out_clicked):
        qtbot.mouseClick(transport.loop_out_button, Qt.MouseButton.LeftButton)


def test_typing_a_frame_or_a_time_jumps(qtbot: QtBot, transport: TransportWidget) -> None:
    transport.frame_box.setFocus()
    transport.frame_box.lineEdit().selectAll()
    qtbot.keyClicks(transport.frame_box, "123")
    with qtbot.waitSignal(transport.frame_entered) as frame:
        qtbot.keyClick(transport.frame_box, Qt.Key.Key_Return)
    assert frame.args == [123]
    transport.time_box.setFocus()
    transport.time_box.selectAll()
    qtbot.keyClicks(transport.time_box, "0:04.5")
    with qtbot.waitSignal(transport.time_entered) as seconds:
        qtbot.keyClick(transport.time_box, Qt.Key.Key_Return)
    assert seconds.args == [4.5]
    transport.time_box.setFocus()
    transport.time_box.selectAll()
    qtbot.keyClicks(transport.time_box, "soon")
    with qtbot.assertNotEmitted(transport.time_entered):
        qtbot.keyClick(transport.time_box, Qt.Key.Key_Return)


def test_speed_is_chosen_from_a_quarter_to_four(qtbot: QtBot, transport: TransportWidget) -> None:
    box = transport.speed_box
    speeds = [box.itemData(i) for i in range(box.count())]
    assert speeds[0] == 0.25 and speeds[-1] == 4.0 and box.currentData() == 1.0
    with qtbot.waitSignal(transport.speed_selected) as chosen:
        box.activated.emit(speeds.index(2.0))
    assert chosen.args == [2.0]
    transport.set_speed(0.5)
    assert box.currentText() == "0.5x"


def test_a_still_image_disables_the_transport(transport: TransportWidget) -> None:
    transport.set_media(STILL)
    assert not transport.play_button.isEnabled()
    assert not transport.forward_button.isEnabled()
    assert not transport.frame_box.isEnabled()
    assert transport.fps_label.text() == "Still image"
    transport.set_media(VIDEO)
    assert transport.play_button.isEnabled()
