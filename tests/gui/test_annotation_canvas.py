"""The canvas alone: the frame's pixels, zoom, pan, fit, viewing levels, layers, drawing."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.annotation_canvas import MAX_ZOOM, MIN_ZOOM, AnnotationCanvasView
from iamedic_desktop.ui.box_item import BoxState
from iamedic_desktop.ui.prediction_item import PredictionState

pytestmark = pytest.mark.gui


def frame(width: int = 320, height: int = 240, seed: int = 0) -> tuple[QImage, np.ndarray]:
    """An RGB frame of noise (every pixel differs from its neighbours) and its pixels."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    image = QImage(pixels.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()
    return image, pixels


@pytest.fixture
def canvas(qtbot: QtBot) -> Iterator[AnnotationCanvasView]:
    view = AnnotationCanvasView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    yield view


def screen_rgb(view: AnnotationCanvasView, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen inside image pixel (x, y)."""
    shot = view.viewport().grab().toImage()
    color = QColor(shot.pixel(view.viewport_point(QPointF(x + 0.25, y + 0.25))))
    return color.red(), color.green(), color.blue()


def test_the_canvas_shows_the_frames_pixels(canvas: AnnotationCanvasView) -> None:
    image, pixels = frame()
    canvas.show_frame(image)
    assert canvas.zoom == pytest.approx(2.0)  # fitted: 320x240 in 640x480
    canvas.actual_size()
    for x, y in ((5, 200), (160, 120), (319, 239), (250, 3)):
        assert screen_rgb(canvas, x, y) == tuple(pixels[y, x])
    canvas.set_zoom(3.0)
    other, other_pixels = frame(seed=1)
    canvas.show_frame(other)  # the next frame: same size, the zoom stays
    assert canvas.zoom == pytest.approx(3.0)
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    x, y = int(centre.x()), int(centre.y())
    assert screen_rgb(canvas, x, y) == tuple(other_pixels[y, x])


def test_zoom_is_clamped_and_the_wheel_zooms_under_the_mouse(
    canvas: AnnotationCanvasView,
) -> None:
    canvas.show_frame(frame()[0])
    canvas.set_zoom(100)
    assert canvas.zoom == MAX_ZOOM
    canvas.zoom_in()
    assert canvas.zoom == MAX_ZOOM
    canvas.set_zoom(0.001)
    assert canvas.zoom == MIN_ZOOM
    canvas.set_zoom(3.0)  # the image is larger than the view: the anchor can hold
    mouse = canvas.viewport_point(QPointF(100, 60))
    before = canvas.mapToScene(mouse)
    wheel = QWheelEvent(
        QPointF(mouse), QPointF(canvas.viewport().mapToGlobal(mouse)), QPoint(0, 0),
        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(canvas.viewport(), wheel)
    assert canvas.zoom == pytest.approx(3.0 * 1.15**2)
    after = canvas.mapToScene(mouse)
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()), abs=1)


def test_fit_follows_the_view_until_zoomed(canvas: AnnotationCanvasView, qtbot: QtBot) -> None:
    canvas.show_frame(frame(640, 360)[0])
    assert canvas.zoom == pytest.approx(1.0)
    canvas.resize(320, 480)
    qtbot.waitUntil(lambda: canvas.zoom == pytest.approx(0.5))
    canvas.actual_size()
    canvas.resize(640, 480)
    assert canvas.zoom == 1.0
    canvas.fit()
    assert canvas.zoom == pytest.approx(1.0)


def test_pan_with_the_middle_button_and_on_the_image(
    canvas: AnnotationCanvasView, qtbot: QtBot
) -> None:
    canvas.show_frame(frame()[0])
    canvas.set_zoom(4.0)
    viewport = canvas.viewport()
    start = canvas.mapToScene(viewport.rect().center())
    for button in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
        here = canvas.mapToScene(viewport.rect().center())
        qtbot.mousePress(viewport, button, pos=QPoint(300, 200))
        qtbot.mouseMove(viewport, pos=QPoint(260, 180))
        qtbot.mouseRelease(viewport, button, pos=QPoint(260, 180))
        moved = canvas.mapToScene(viewport.rect().center())
        assert (moved.x() - here.x(), moved.y() - here.y()) == pytest.approx((10, 5), abs=0.5)
    assert canvas.mapToScene(viewport.rect().center()) != start
    # Hand mode: a drag that starts on a box pans too, and leaves the box where it is.
    canvas.set_box("CM", BoxState("CM", 100, 80, 100, 80))
    canvas.set_hand_mode(True)
    here = canvas.mapToScene(viewport.rect().center())
    on_box = canvas.viewport_point(QPointF(150, 120))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=on_box)
    qtbot.mouseMove(viewport, pos=on_box + QPoint(-20, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=on_box + QPoint(-20, 0))
    assert canvas.mapToScene(viewport.rect().center()).x() == pytest.approx(here.x() + 5)
    assert canvas.box_states() == [BoxState("CM", 100, 80, 100, 80)]


def test_brightness_and_contrast_change_only_the_view(canvas: AnnotationCanvasView) -> None:
    image, pixels = frame()
    canvas.show_frame(image)
    canvas.actual_size()
    x, y = 100, 100
    original = tuple(int(v) for v in pixels[y, x])
    canvas.set_brightness(40)
    brighter = screen_rgb(canvas, x, y)
    assert all(b >= o for b, o in zip(brighter, original, strict=True)) and brighter != original
    canvas.set_contrast(-100)  # a quarter of the contrast, around mid-grey
    assert all(abs(v - 128 - 51) <= 33 for v in screen_rgb(canvas, x, y))
    given = QColor(image.pixel(x, y))
    assert (given.red(), given.green(), given.blue()) == original  # the frame given: untouched
    canvas.set_brightness(0)
    canvas.set_contrast(0)
    assert screen_rgb(canvas, x, y) == original
    canvas.set_brightness(500)
    assert canvas.brightness() == 100


def test_drawing_a_box_reports_it_in_image_pixels(
    canvas: AnnotationCanvasView, qtbot: QtBot
) -> None:
    canvas.show_frame(frame()[0])
    canvas.set_zoom(2.0)
    viewport = canvas.viewport()
    canvas.set_draw_mode(True, "NT")
    drawn: list[QRectF] = []
    canvas.box_drawn.connect(drawn.append)
    left = Qt.MouseButton.LeftButton
    # Too small (under 10 px): nothing, and the mode stays for another try.
    a, b = canvas.viewport_point(QPointF(10, 10)), canvas.viewport_point(QPointF(15, 30))
    qtbot.mousePress(viewport, left, pos=a)
    qtbot.mouseMove(viewport, pos=b)
    qtbot.mouseRelease(viewport, left, pos=b)
    assert drawn == [] and canvas.draw_mode
    # Dragged up-left and past the image's edge: normalised and cut to the image.
    a, b = canvas.viewport_point(QPointF(300, 100)), canvas.viewport_point(QPointF(200, 40))
    qtbot.mousePress(viewport, left, pos=a)
    qtbot.mouseMove(viewport, pos=b)
    assert canvas.annotation_scene.items()  # the rubber band shows while dragging
    qtbot.mouseRelease(viewport, left, pos=b + QPoint(400, 0))
    assert drawn == [QRectF(300, 40, 20, 60)]
    assert not canvas.draw_mode
    canvas.set_draw_mode(True)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.draw_mode


def test_layers_and_the_prediction_threshold(canvas: AnnotationCanvasView) -> None:
    canvas.show_frame(frame()[0])
    canvas.set_boxes([BoxState("CM", 10, 10, 50, 50), BoxState("NT", 100, 100, 40, 40, True)])
    canvas.set_predictions(
        [
            PredictionState("CM", 12, 12, 50, 50, 0.9, "bb - 2"),
            PredictionState("IT", 200, 20, 30, 30, 0.4, "bb - 2"),
        ]
    )
    predictions = {p.bb_class: p for p in canvas.prediction_items()}
    assert [predictions["CM"].isVisible(), predictions["IT"].isVisible()] == [True, False]
    canvas.set_prediction_threshold(0.35)
    assert predictions["IT"].isVisible()
    cm, nt = canvas.box_item("CM"), canvas.box_item("NT")
    assert cm is not None and nt is not None
    canvas.select_box("CM")
    canvas.set_layer_visible("annotations", False)
    assert not cm.isVisible()
    assert canvas.selected_box() is None
    canvas.set_layer_visible("predictions", False)
    assert not predictions["CM"].isVisible()
    canvas.set_layer_visible("annotations", True)
    assert nt.isVisible() and nt.tag_text() == "NT (hidden)"
    canvas.set_boxes([BoxState("NT", 100, 100, 40, 40)])
    assert canvas.box_item("CM") is None


def test_the_usefulness_label_is_shown(canvas: AnnotationCanvasView) -> None:
    canvas.show_frame(QImage(320, 240, QImage.Format.Format_RGB888))
    canvas.annotation_scene.pixmap_item.pixmap().fill(QColor("black"))

    def corner() -> QColor:
        return QColor(canvas.viewport().grab().toImage().pixel(12, 12))

    canvas.set_usefulness(1)
    assert corner().green() > 120 and corner().red() < 100
    canvas.set_usefulness(0)
    assert corner().red() > 150 and corner().green() < 100
