"""The canvas: one frame at image-pixel scene coordinates, with boxes and predictions on top.

Scene units are pixels of the frame, so what an item says is what is stored. Zoom goes from
10 % to 800 % (wheel under the mouse, keys, fit, 1:1); pan with the middle button, with the left
button on the image outside any box, or in hand mode. Brightness and contrast change only the
picture shown. Predicted boxes are those of one model version at a time (the dock's version
picker chooses it; none chosen: all). The view knows nothing of the database: it shows
states and reports gestures (a box drawn, a box moved or resized, a nudge) for the
controller to store.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from iamedic_desktop.ui.annotation_scene import AnnotationScene
from iamedic_desktop.ui.box_item import MIN_BOX_PX, BoxItem, BoxState
from iamedic_desktop.ui.canvas_badges import BADGE_AREA, paint_badges
from iamedic_desktop.ui.canvas_notice import CanvasNoticeWidget
from iamedic_desktop.ui.class_colors import class_color
from iamedic_desktop.ui.prediction_item import PredictionItem, PredictionState
from iamedic_desktop.ui.sync_conflict_item import ConflictBoxItem, ConflictBoxState
from iamedic_desktop.ui.tag_item import TagItem

MIN_ZOOM = 0.1
MAX_ZOOM = 8.0
ZOOM_STEP = 1.25
WHEEL_STEP = 1.15  # per notch (120 eighths of a degree)


class AnnotationCanvasView(QGraphicsView):
    """Shows a frame with its annotation boxes and predictions; zoom, pan and draw."""

    zoom_changed = Signal(float)
    box_drawn = Signal(QRectF)  # a new box in image pixels, at least MIN_BOX_PX a side
    box_edited = Signal(str, QRectF, QRectF)  # class, before, after (mouse released)
    box_selected = Signal(object)  # the selected box's class, or None
    prediction_selected = Signal(object)  # the selected PredictionState, or None
    nudge_requested = Signal(int, int)  # arrows on a selected box (Shift: 10 px)
    draw_mode_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.annotation_scene = AnnotationScene(self)
        self.setScene(self.annotation_scene)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        scene = self.annotation_scene
        scene.box_edited.connect(self.box_edited)
        scene.box_selected.connect(self.box_selected)
        scene.prediction_selected.connect(self.prediction_selected)

        self._brightness = 0
        self._contrast = 0
        self._zoom = 1.0
        self._fit_mode = True
        self._usefulness: int | None = None
        self._saving = False
        self._draw_mode = False
        self._draw_color = QColor("#ffffff")
        self._hand_mode = False
        self._pan_from: QPoint | None = None
        self._draw_from: QPointF | None = None
        # Every version's predicted boxes; the scene shows the chosen version's (the picker's).
        self._all_predictions: list[PredictionState] = []
        self._prediction_version: str | None = None
        self.notice = CanvasNoticeWidget(self)  # what an edit removed, with Undo
        self.conflict_notice = CanvasNoticeWidget(self, at_top=True)  # Keep central / Keep mine

    # --- the frame and viewing -----------------------------------------------------------------

    def show_frame(self, image: QImage) -> None:
        """Show ``image`` (RGB); boxes, zoom and pan stay unless the size changes."""
        if self.annotation_scene.show_frame(image):
            self.fit()  # another media: start from the whole image

    def clear_frame(self) -> None:
        """Show nothing (no media open)."""
        self._all_predictions = []
        self.annotation_scene.clear_frame()

    def image_size(self) -> QSize:
        """The shown frame's size in pixels (empty when none)."""
        return self.annotation_scene.image_size()

    def has_image(self) -> bool:
        """Whether a frame is shown."""
        return self.annotation_scene.has_image()

    def brightness(self) -> int:
        """Viewing brightness, -100..100 (0: as stored)."""
        return self._brightness

    def contrast(self) -> int:
        """Viewing contrast, -100..100 (0: as stored)."""
        return self._contrast

    def set_brightness(self, value: int) -> None:
        """Brighten or darken the picture shown (never the stored frame)."""
        self._brightness = max(-100, min(100, int(value)))
        self.annotation_scene.set_levels(self._brightness, self._contrast)

    def set_contrast(self, value: int) -> None:
        """Raise or lower the contrast of the picture shown (never the stored frame)."""
        self._contrast = max(-100, min(100, int(value)))
        self.annotation_scene.set_levels(self._brightness, self._contrast)

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Show or hide a layer: "annotations" or "predictions"."""
        self.annotation_scene.set_layer_visible(layer, visible)

    def layer_visible(self, layer: str) -> bool:
        """Whether a layer is shown."""
        return self.annotation_scene.layer_visible(layer)

    def set_saving(self, saving: bool) -> None:
        """Show "Saving" under the label while an edit on screen is not yet committed."""
        self._saving = saving
        self.viewport().update(BADGE_AREA)

    def is_showing_saving(self) -> bool:
        """Whether the "Saving" badge is up."""
        return self._saving

    def set_usefulness(self, usefulness: int | None) -> None:
        """The usefulness label shown in the corner: 1 useful, 0 not useful, None no label."""
        self._usefulness = usefulness
        self.viewport().update(BADGE_AREA)

    # --- zoom and pan --------------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel (1.0 = 100 %)."""
        return self._zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` (clamped to 10 %-800 %), keeping the image point at ``anchor``."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._fit_mode = False
        self._apply_zoom(zoom, anchor)

    def zoom_in(self) -> None:
        """One step closer, around the centre of the view."""
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        """One step farther, around the centre of the view."""
        self.set_zoom(self._zoom / ZOOM_STEP)

    def actual_size(self) -> None:
        """1:1, one image pixel per screen pixel."""
        self.set_zoom(1.0)

    def fit(self) -> None:
        """The whole image in the view; kept fitted as the view is resized."""
        self._fit_mode = True
        if self.annotation_scene.bounds.isEmpty():
            return
        view = self.viewport().size()
        zoom = min(
            view.width() / self.annotation_scene.bounds.width(),
            view.height() / self.annotation_scene.bounds.height(),
        )
        self._apply_zoom(max(MIN_ZOOM, min(MAX_ZOOM, zoom)), None)
        self.centerOn(self.annotation_scene.bounds.center())

    def _apply_zoom(self, zoom: float, anchor: QPointF | None) -> None:
        view_point = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        scene_point = self.mapToScene(view_point.toPoint())
        self.setTransform(QTransform.fromScale(zoom, zoom))
        moved = QPointF(self.mapFromScene(scene_point)) - view_point
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(moved.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(moved.y()))
        changed = zoom != self._zoom
        self._zoom = zoom
        # Smooth when shrinking; single pixels when enlarging, to see what is measured.
        self.annotation_scene.pixmap_item.setTransformationMode(
            Qt.TransformationMode.SmoothTransformation
            if zoom < 1.0
            else Qt.TransformationMode.FastTransformation
        )
        self.annotation_scene.set_view_scale(zoom)
        if changed:
            self.zoom_changed.emit(zoom)

    def set_hand_mode(self, on: bool) -> None:
        """Left-drag pans everywhere (boxes are not edited) while on."""
        self._hand_mode = on
        self._update_cursor()

    def viewport_point(self, image_point: QPointF) -> QPoint:
        """Where an image pixel position is on the viewport (for tests and overlays)."""
        return self.mapFromScene(image_point)

    # --- boxes and predictions (shown by the scene) ----------------------------------------------

    def set_boxes(self, states: Iterable[BoxState]) -> None:
        """Show exactly these boxes (the selection stays on a class still present)."""
        self.annotation_scene.set_boxes(states)

    def set_box(self, bb_class: str, state: BoxState | None) -> None:
        """Show, move or (with None) remove the box of one class."""
        self.annotation_scene.set_box(bb_class, state)

    def box_item(self, bb_class: str) -> BoxItem | None:
        """The item of a class's box, if shown."""
        return self.annotation_scene.box_item(bb_class)

    def box_states(self) -> list[BoxState]:
        """The boxes shown, by class."""
        return self.annotation_scene.box_states()

    def select_box(self, bb_class: str | None) -> None:
        """Select the box of a class (None: select nothing)."""
        self.annotation_scene.select_box(bb_class)

    def selected_box(self) -> str | None:
        """The class of the selected box, if a box is selected."""
        return self.annotation_scene.selected_box()

    def set_predictions(self, states: Iterable[PredictionState]) -> None:
        """Show these predicted boxes: the chosen model version's (under the threshold hidden)."""
        self._all_predictions = list(states)
        self._show_predictions()

    @property
    def prediction_version(self) -> str | None:
        """The model version whose boxes are shown (None: every version's)."""
        return self._prediction_version

    def set_prediction_version(self, model_version: str | None) -> None:
        """Show only the boxes ``model_version`` predicted (None: every version's)."""
        if model_version != self._prediction_version:
            self._prediction_version = model_version
            self._show_predictions()

    def _show_predictions(self) -> None:
        version = self._prediction_version
        self.annotation_scene.set_predictions(
            s for s in self._all_predictions if version is None or s.model_version == version
        )

    def prediction_items(self) -> list[PredictionItem]:
        """The predicted boxes, shown or under the threshold."""
        return self.annotation_scene.prediction_items()

    @property
    def prediction_threshold(self) -> float:
        """The confidence a prediction needs to be shown."""
        return self.annotation_scene.threshold

    def set_prediction_threshold(self, threshold: float) -> None:
        """Hide predictions whose confidence is under ``threshold`` (0..1)."""
        self.annotation_scene.set_prediction_threshold(threshold)

    def selected_prediction(self) -> PredictionState | None:
        """The selected (visible) prediction, if any."""
        return self.annotation_scene.selected_prediction()

    def set_conflict_boxes(self, states: Iterable[ConflictBoxState]) -> None:
        """Show your versions of boxes in a sync conflict, over the central ones."""
        self.annotation_scene.set_conflict_boxes(states)

    def conflict_items(self) -> list[ConflictBoxItem]:
        """Your versions of boxes in conflict, as shown."""
        return self.annotation_scene.conflict_items()

    # --- drawing mode --------------------------------------------------------------------------

    @property
    def draw_mode(self) -> bool:
        """Whether a left-drag draws a new box."""
        return self._draw_mode

    def set_draw_mode(self, on: bool, bb_class: str | None = None) -> None:
        """Start or stop drawing a new box (drawn in the colour of ``bb_class``)."""
        if bb_class is not None:
            self._draw_color = class_color(bb_class)
        if on == self._draw_mode:
            return
        self._draw_mode = on
        if not on:
            self.annotation_scene.end_rubber()
            self._draw_from = None
        self._update_cursor()
        self.draw_mode_changed.emit(on)

    def _update_cursor(self) -> None:
        shapes = Qt.CursorShape
        hand = shapes.OpenHandCursor if self._hand_mode else shapes.ArrowCursor
        self.viewport().setCursor(shapes.CrossCursor if self._draw_mode else hand)

    def _clamped(self, view_pos: QPointF) -> QPointF:
        return self.annotation_scene.clamp_point(self.mapToScene(view_pos.toPoint()))

    # --- mouse and keys ------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        left = button == Qt.MouseButton.LeftButton
        if left and self._draw_mode and not self.annotation_scene.bounds.isEmpty():
            self._draw_from = self._clamped(event.position())
            self.annotation_scene.start_rubber(self._draw_from, self._draw_color)
            return
        on_item = self._editable_item_at(event.position().toPoint())
        if button == Qt.MouseButton.MiddleButton or (left and (self._hand_mode or not on_item)):
            if left:
                self.annotation_scene.select_item(None)
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        super().mousePressEvent(event)

    def _editable_item_at(self, pos: QPoint) -> bool:
        kinds = BoxItem | PredictionItem | TagItem | ConflictBoxItem
        for top in self.items(pos):  # topmost first
            item = top
            while item is not None and not isinstance(item, kinds):
                item = item.parentItem()  # the handles of the selected box, or a label's text
            if item is not None and isinstance(
                item if isinstance(item, ConflictBoxItem) else item.parentItem(), ConflictBoxItem
            ):
                continue  # your version in a conflict, or its label: the mouse goes through
            return isinstance(item, BoxItem | PredictionItem)
        return False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            here = event.position().toPoint()
            delta = here - self._pan_from
            self._pan_from = here
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        if self._draw_from is not None:
            corner = self._clamped(event.position())
            self.annotation_scene.stretch_rubber(QRectF(self._draw_from, corner).normalized())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self._update_cursor()
            return
        if self._draw_from is not None:
            rect = QRectF(self._draw_from, self._clamped(event.position())).normalized()
            self.annotation_scene.end_rubber()
            self._draw_from = None
            if rect.width() >= MIN_BOX_PX and rect.height() >= MIN_BOX_PX:
                self.set_draw_mode(False)
                self.box_drawn.emit(rect)
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        if notches and not self.annotation_scene.bounds.isEmpty():
            self.set_zoom(self._zoom * WHEEL_STEP**notches, event.position())
        event.accept()

    def _nudge_for(self, event: QKeyEvent) -> tuple[int, int] | None:
        if self.selected_box() is None:
            return None
        step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
        return {
            Qt.Key.Key_Left: (-step, 0),
            Qt.Key.Key_Right: (step, 0),
            Qt.Key.Key_Up: (0, -step),
            Qt.Key.Key_Down: (0, step),
        }.get(Qt.Key(event.key()))

    def event(self, event: QEvent) -> bool:
        # Arrows belong to the selected box while the canvas has focus, before any window
        # shortcut (frame stepping) can take them.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and (
                self._nudge_for(event) is not None
                or (event.key() == Qt.Key.Key_Escape and (self._draw_mode or self.selected_box()))
            )
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        nudge = self._nudge_for(event)
        if nudge is not None:
            self.nudge_requested.emit(*nudge)
            return
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.set_draw_mode(False)
            self.annotation_scene.select_item(None)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    # --- painting ------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.notice.place()
        self.conflict_notice.place()
        if self._fit_mode:
            self.fit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        # The viewport scrolls its pixels; the badge must stay in the corner.
        self.viewport().update(BADGE_AREA)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.has_image():
            paint_badges(painter, self._usefulness, self._saving)
