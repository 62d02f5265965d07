"""The frame timeline: seeking by click and drag, zoom, markers, score lane, thumbnails."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.timeline_widget import (
    MARKER_COLOURS,
    MARKER_ROW_H,
    PLAYHEAD_COLOUR,
    RULER_H,
    SCORE_COLOUR,
    THUMB_H,
    TimelineWidget,
)

pytestmark = pytest.mark.gui

WIDTH = 500
FRAMES = 100  # 5 pixels a frame when the whole media is in view


@pytest.fixture
def timeline(qtbot: QtBot) -> Iterator[TimelineWidget]:
    widget = TimelineWidget()
    qtbot.addWidget(widget)
    widget.resize(WIDTH, widget.sizeHint().height())
    widget.set_media(FRAMES, 25.0, 4 / 3)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _pixel(widget: TimelineWidget, x: float, y: float) -> QColor:
    image = widget.grab().toImage()
    ratio = image.devicePixelRatio()
    return image.pixelColor(round(x * ratio), round(y * ratio))


def _close(a: QColor, b: str, tolerance: int = 40) -> bool:
    c = QColor(b)
    return all(abs(p - q) <= tolerance for p, q in zip(a.getRgb()[:3], c.getRgb()[:3], strict=True))


def _mouse(widget: TimelineWidget, kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> None:
    pos = QPointF(x, RULER_H + 10)
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(
        kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def _wheel(
    widget: TimelineWidget,
    x: float,
    notches: float,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    pos = QPointF(x, RULER_H + 10)
    event = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_a_click_seeks_to_the_frame_under_the_pointer(
    qtbot: QtBot, timeline: TimelineWidget
) -> None:
    with qtbot.waitSignal(timeline.seek_requested) as asked:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(37 * 5 + 2, RULER_H + 20))
    assert asked.args == [37]


def test_dragging_seeks_along_the_way(timeline: TimelineWidget) -> None:
    frames: list[int] = []
    timeline.seek_requested.connect(frames.append)
    _mouse(timeline, QEvent.Type.MouseButtonPress, 10 * 5 + 1, Qt.MouseButton.LeftButton)
    for x in (60, 80, 120, 251, 499):
        _mouse(timeline, QEvent.Type.MouseMove, x, Qt.MouseButton.LeftButton)
    _mouse(timeline, QEvent.Type.MouseButtonRelease, 499, Qt.MouseButton.NoButton)
    _mouse(timeline, QEvent.Type.MouseMove, 300, Qt.MouseButton.NoButton)  # released: no seek
    assert frames == [10, 12, 16, 24, 50, 99]


def test_markers_are_drawn_at_their_frames(timeline: TimelineWidget) -> None:
    timeline.set_markers("still", [10, 50])
    timeline.set_markers("annotated", [50])
    timeline.set_markers("prediction", [80])
    top = RULER_H + THUMB_H + 2
    rows = {kind: top + row * MARKER_ROW_H + 2 for row, kind in enumerate(MARKER_COLOURS)}
    for kind, frames in {"still": [10, 50], "annotated": [50], "prediction": [80]}.items():
        for frame in frames:
            assert _close(_pixel(timeline, timeline.x_of(frame), rows[kind]), MARKER_COLOURS[kind])
    for kind, frame in {"still": 30, "annotated": 10, "prediction": 50}.items():
        assert not _close(_pixel(timeline, timeline.x_of(frame), rows[kind]), MARKER_COLOURS[kind])
    with pytest.raises(ValueError):
        timeline.set_markers("comment", [1])


def test_the_score_lane_draws_any_per_frame_series(timeline: TimelineWidget) -> None:
    scores = [0.0] * FRAMES
    for f in range(58, 63):
        scores[f] = 1.0
    timeline.set_scores(scores)
    lane_top = RULER_H + THUMB_H + 2 + 3 * MARKER_ROW_H + 2
    lane_bottom = lane_top + 34

    def colour_in_column(frame: int, y0: int, y1: int) -> bool:
        image = timeline.grab().toImage()
        x = round(timeline.x_of(frame) * image.devicePixelRatio())
        return any(
            _close(image.pixelColor(x, round(y * image.devicePixelRatio())), SCORE_COLOUR, 60)
            for y in range(y0, y1)
        )

    assert colour_in_column(60, lane_top, lane_top + 6)  # the peak at the top of the lane
    assert not colour_in_column(20, lane_top, lane_top + 6)
    assert colour_in_column(20, lane_bottom - 6, lane_bottom)  # low scores at the bottom
    timeline.set_scores(None)
    assert not colour_in_column(60, lane_top, lane_top + 6)


def test_the_playhead_follows_the_position(timeline: TimelineWidget) -> None:
    timeline.set_position(70)
    assert _close(_pixel(timeline, timeline.x_of(70), RULER_H + THUMB_H // 2), PLAYHEAD_COLOUR)
    assert not _close(_pixel(timeline, timeline.x_of(30), RULER_H + THUMB_H // 2), PLAYHEAD_COLOUR)


def test_wheel_zooms_from_the_whole_media_to_single_frames(
    qtbot: QtBot, timeline: TimelineWidget
) -> None:
    assert timeline.view_range() == (0.0, float(FRAMES))
    x = timeline.x_of(40)
    _wheel(timeline, x, 1)
    first, span = timeline.view_range()
    assert span < FRAMES
    assert timeline.frame_at(x) == 40  # the frame under the pointer stays there
    wanted: list[list[int]] = []
    timeline.detail_wanted.connect(wanted.append)
    for _ in range(30):
        _wheel(timeline, x, 1, Qt.KeyboardModifier.ControlModifier)
    first, span = timeline.view_range()
    assert span == pytest.approx(WIDTH / timeline.cell_width())  # one thumbnail per frame
    assert timeline.frame_at(x) == 40
    # The exact thumbnails of the frames now in view are asked for.
    assert wanted[-1] == list(range(int(first), math.ceil(first + span)))
    _wheel(timeline, x, -1, Qt.KeyboardModifier.ShiftModifier)  # Shift: pan, same zoom
    assert timeline.view_range()[1] == pytest.approx(span)
    assert timeline.view_range()[0] > first
    for _ in range(40):
        _wheel(timeline, x, -1)
    assert timeline.view_range() == (0.0, float(FRAMES))


def test_zoomed_in_the_view_follows_the_playhead(timeline: TimelineWidget) -> None:
    timeline.zoom(10.0, 0)
    first, span = timeline.view_range()
    assert first == 0.0
    timeline.set_position(int(span) + 20)
    first, span = timeline.view_range()
    assert first <= span + 20 <= first + span


def _solid(colour: str) -> QImage:
    image = QImage(66, 50, QImage.Format.Format_RGB888)
    image.fill(QColor(colour))
    return image


def test_thumbnails_are_painted_as_they_arrive(timeline: TimelineWidget) -> None:
    middle_y = RULER_H + THUMB_H // 2
    timeline.begin_thumbnails(4)
    assert _close(_pixel(timeline, 30, middle_y), "#0b0b0c", 10)
    timeline.set_thumbnail(0, 0.5, _solid("#c02020"))
    assert _close(_pixel(timeline, 30, middle_y), "#c02020", 10)  # also stands in for the rest
    assert _close(_pixel(timeline, WIDTH - 30, middle_y), "#c02020", 10)
    timeline.set_thumbnail(3, 3.5, _solid("#20c020"))
    assert _close(_pixel(timeline, WIDTH - 30, middle_y), "#20c020", 10)
    timeline.zoom(100.0, 0)  # single frames: exact thumbnails take over
    timeline.set_frame_thumbnail(2, _solid("#2020c0"))
    assert _close(_pixel(timeline, timeline.x_of(2), middle_y), "#2020c0", 10)
    assert _close(_pixel(timeline, timeline.x_of(1), middle_y), "#c02020", 10)
