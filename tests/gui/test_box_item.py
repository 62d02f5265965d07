"""Box items: geometry kept inside the image, handles, cosmetic pens, labels, class colours."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QGraphicsScene
from pytestqt.qtbot import QtBot

from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
from iamedic_desktop.ui.box_item import BoxItem, BoxState, move_within, resize_within
from iamedic_desktop.ui.class_colors import class_color, class_key, label_text_color
from iamedic_desktop.ui.prediction_item import PredictionItem, PredictionState, short_version

pytestmark = pytest.mark.gui

IMAGE = QRectF(0, 0, 200, 100)


def test_moving_keeps_the_box_inside_the_image() -> None:
    box = QRectF(10, 10, 50, 40)
    assert move_within(box, 5, 5, IMAGE) == QRectF(15, 15, 50, 40)
    assert move_within(box, -50, -50, IMAGE) == QRectF(0, 0, 50, 40)
    assert move_within(box, 500, 500, IMAGE) == QRectF(150, 60, 50, 40)


def test_resizing_keeps_ten_pixels_and_the_image() -> None:
    box = QRectF(10, 10, 50, 40)
    top_left, right, bottom_right = (True, True, False, False), (False, False, True, False), (
        False, False, True, True,
    )  # fmt: skip
    assert resize_within(box, bottom_right, 20, 5, IMAGE) == QRectF(10, 10, 70, 45)
    assert resize_within(box, bottom_right, -100, -100, IMAGE) == QRectF(10, 10, 10, 10)
    assert resize_within(box, top_left, -30, -30, IMAGE) == QRectF(0, 0, 60, 50)
    assert resize_within(box, top_left, 100, 100, IMAGE) == QRectF(50, 40, 10, 10)
    assert resize_within(box, right, 500, 0, IMAGE) == QRectF(10, 10, 190, 40)


def test_a_box_item_shows_its_state(qtbot: QtBot) -> None:
    scene = QGraphicsScene()
    item = BoxItem(BoxState("nasal bone", 20, 30, 40, 50), IMAGE)
    scene.addItem(item)
    assert item.scene_rect() == QRectF(20, 30, 40, 50)
    assert item.tag_text() == "nasal bone"
    assert item.pen().isCosmetic() and item.pen().color() == class_color("nasal bone")
    item.set_state(BoxState("nasal bone", 25, 35, 40, 50, hidden=True))
    assert item.pos() == QPointF(25, 35)
    assert item.tag_text() == "nasal bone (hidden)"
    assert item.pen().style() == Qt.PenStyle.DotLine and item.pen().color().alpha() < 255
    # Handles: only on a selected box, hit where drawn whatever the zoom.
    assert item.handle_at(QPointF(40, 50)) is None
    item.set_selected(True)
    assert item.handle_at(QPointF(40, 50)) == 4  # bottom-right
    assert item.handle_at(QPointF(20, 0)) == 1  # top middle
    assert item.handle_at(QPointF(20, 25)) is None  # the middle moves the box
    item.set_view_scale(0.25)  # zoomed out: 9 px on screen is 36 image pixels
    assert item.handle_at(QPointF(40 + 15, 50 + 15)) == 4
    assert item.handle_scene_pos(6) == QPointF(25, 85)  # bottom-left


def test_a_drag_reports_one_edit_on_release(qtbot: QtBot) -> None:
    view = AnnotationCanvasView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    from PySide6.QtGui import QImage

    view.show_frame(QImage(200, 100, QImage.Format.Format_RGB888))
    view.actual_size()
    view.set_box("CM", BoxState("CM", 50, 20, 40, 30))
    edits: list[tuple[str, QRectF, QRectF]] = []
    view.box_edited.connect(lambda c, a, b: edits.append((c, a, b)))
    viewport, left = view.viewport(), Qt.MouseButton.LeftButton
    start = view.viewport_point(QPointF(70, 35))
    qtbot.mousePress(viewport, left, pos=start)
    qtbot.mouseMove(viewport, pos=view.viewport_point(QPointF(80, 40)))
    qtbot.mouseMove(viewport, pos=view.viewport_point(QPointF(300, 40)))  # past the edge
    assert edits == []  # nothing stored while the mouse is down
    item = view.box_item("CM")
    assert item is not None and item.scene_rect() == QRectF(160, 25, 40, 30)
    qtbot.mouseRelease(viewport, left, pos=view.viewport_point(QPointF(300, 40)))
    assert edits == [("CM", QRectF(50, 20, 40, 30), QRectF(160, 25, 40, 30))]
    assert view.selected_box() == "CM"


def test_predictions_are_labelled_and_filtered(qtbot: QtBot) -> None:
    state = PredictionState("NT", 1, 2, 30, 40, 0.734, "fetal_structures_bb_regressor_224x224 - 12")
    item = PredictionItem(state)
    assert item.tag_text() == "NT 0.73 v12"
    assert item.pen().style() == Qt.PenStyle.CustomDashLine and item.pen().isCosmetic()
    item.apply_threshold(0.8)
    assert not item.isVisible()
    item.apply_threshold(0.7)
    assert item.isVisible()
    assert short_version("odd") == "odd"


def test_nine_distinct_readable_class_colours(qtbot: QtBot) -> None:
    colors = [class_color(c) for c in BB_CLASSES]
    assert len({c.name() for c in colors}) == 9
    for color in colors:  # light enough to read on dark ultrasound
        assert color.lightness() >= 120, color.name()
    for a in range(9):
        for b in range(a + 1, 9):
            ca, cb = colors[a], colors[b]
            distance = (
                (ca.red() - cb.red()) ** 2
                + (ca.green() - cb.green()) ** 2
                + (ca.blue() - cb.blue()) ** 2
            ) ** 0.5
            assert distance > 60, (BB_CLASSES[a], BB_CLASSES[b])
    assert [class_key(c) for c in BB_CLASSES] == [str(i) for i in range(1, 10)]
    assert label_text_color(class_color("NT")).name() == "#000000"
