"""What the canvas shows: the frame as a pixmap at image-pixel coordinates, and layers of
boxes above it (predictions, then annotations), each hidden or shown as a whole. Above them all,
this workstation's versions of boxes in a sync conflict (``sync_conflict_item.py``).

Brightness and contrast change only the pixmap shown (a lookup table over the frame's bytes,
about 3 ms for a 720p frame, on the UI thread), never the frame given or anything stored.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
)

from iamedic_desktop.ui.box_item import BoxItem, BoxState
from iamedic_desktop.ui.prediction_item import PredictionItem, PredictionState
from iamedic_desktop.ui.sync_conflict_item import ConflictBoxItem, ConflictBoxState

LAYERS = ("annotations", "predictions", "conflicts")
BACKGROUND = QColor("#0b0b0b")


def adjust_levels(image: QImage, brightness: int, contrast: int) -> QImage:
    """A copy of ``image`` with brightness and contrast (each -100..100) applied, for viewing."""
    gain = 2.0 ** (contrast / 50.0)  # 0.25x..4x around mid-grey
    levels = (np.arange(256, dtype=np.float32) - 128.0) * gain + 128.0 + brightness * 1.28
    lut = np.clip(np.rint(levels), 0, 255).astype(np.uint8)
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    height, stride = rgb.height(), rgb.bytesPerLine()
    pixels = np.frombuffer(rgb.constBits(), np.uint8, count=height * stride).reshape(height, stride)
    out = np.ascontiguousarray(np.take(lut, pixels))
    return QImage(out.data, rgb.width(), height, stride, QImage.Format.Format_RGB888).copy()


class _LayerItem(QGraphicsItem):
    """An invisible parent: hiding it hides a whole layer of boxes at once."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, *args: object) -> None:  # pragma: no cover - ItemHasNoContents
        pass


class AnnotationScene(QGraphicsScene):
    """The frame, the annotation boxes by class and the predicted boxes."""

    box_edited = Signal(str, QRectF, QRectF)  # class, before, after (mouse released)
    box_selected = Signal(object)  # the selected box's class, or None
    prediction_selected = Signal(object)  # the selected PredictionState, or None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setBackgroundBrush(BACKGROUND)
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setZValue(-10)
        self._pixmap.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.addItem(self._pixmap)
        self._layers = {name: _LayerItem() for name in LAYERS}
        self._layers["predictions"].setZValue(1)
        self._layers["annotations"].setZValue(2)
        self._layers["conflicts"].setZValue(3)
        for layer in self._layers.values():
            self.addItem(layer)
        self._source = QImage()
        self.bounds = QRectF()  # the image, in its own pixels
        self._brightness = 0
        self._contrast = 0
        self._scale = 1.0
        self._boxes: dict[str, BoxItem] = {}
        self._predictions: list[PredictionItem] = []
        self._conflicts: list[ConflictBoxItem] = []
        self.threshold = 0.5
        # One selected box or prediction, kept here rather than by Qt (see BoxItem).
        self._selected: BoxItem | PredictionItem | None = None
        self._rubber: QGraphicsRectItem | None = None  # a box being drawn

    @property
    def pixmap_item(self) -> QGraphicsPixmapItem:
        """The frame's item."""
        return self._pixmap

    # --- the frame -----------------------------------------------------------------------------

    def show_frame(self, image: QImage) -> bool:
        """Show ``image``; True when its size differs from the previous frame's."""
        resized = image.size() != self._source.size()
        self._source = image
        self._refresh_pixmap()
        if resized:
            self.bounds = QRectF(0, 0, image.width(), image.height())
            self.setSceneRect(self.bounds)
            for item in self._boxes.values():
                item.set_bounds(self.bounds)
        return resized

    def clear_frame(self) -> None:
        """Show nothing."""
        self.set_boxes([])
        self.set_predictions([])
        self.set_conflict_boxes([])
        self._source = QImage()
        self.bounds = QRectF()
        self._pixmap.setPixmap(QPixmap())

    def image_size(self) -> QSize:
        """The frame's size in pixels (empty when none)."""
        return self._source.size()

    def has_image(self) -> bool:
        """Whether a frame is shown."""
        return not self._source.isNull()

    def set_levels(self, brightness: int, contrast: int) -> None:
        """Viewing brightness and contrast, each -100..100 (0, 0: the frame as it is)."""
        self._brightness, self._contrast = brightness, contrast
        self._refresh_pixmap()

    def _refresh_pixmap(self) -> None:
        image = self._source
        if not image.isNull() and (self._brightness or self._contrast):
            image = adjust_levels(image, self._brightness, self._contrast)
        self._pixmap.setPixmap(QPixmap.fromImage(image))

    def clamp_point(self, point: QPointF) -> QPointF:
        """``point`` rounded to whole pixels and kept on the image."""
        bounds = self.bounds
        x = min(max(round(point.x()), bounds.left()), bounds.right())
        y = min(max(round(point.y()), bounds.top()), bounds.bottom())
        return QPointF(x, y)

    def start_rubber(self, point: QPointF, color: QColor) -> None:
        """Show the dashed outline of a box being drawn from ``point``."""
        self.end_rubber()
        pen = QPen(color, 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._rubber = QGraphicsRectItem(QRectF(point, point))
        self._rubber.setPen(pen)
        self._rubber.setZValue(100)
        self.addItem(self._rubber)

    def stretch_rubber(self, rect: QRectF) -> None:
        """Where the box being drawn is now."""
        if self._rubber is not None:
            self._rubber.setRect(rect)

    def end_rubber(self) -> None:
        """Remove the outline of the box being drawn."""
        if self._rubber is not None:
            self.removeItem(self._rubber)
        self._rubber = None

    def set_view_scale(self, scale: float) -> None:
        """The view's zoom, which the boxes need to hit their handles."""
        self._scale = scale
        for item in self._boxes.values():
            item.set_view_scale(scale)

    # --- layers --------------------------------------------------------------------------------

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Show or hide a layer: "annotations" or "predictions"."""
        self._layers[layer].setVisible(visible)
        selected = self._selected
        if not visible and selected is not None and selected.parentItem() is self._layers[layer]:
            self.select_item(None)

    def layer_visible(self, layer: str) -> bool:
        """Whether a layer is shown."""
        return self._layers[layer].isVisible()

    def layer(self, layer: str) -> QGraphicsItem:
        """The parent item of a layer (benchmarks fill it with many boxes)."""
        return self._layers[layer]

    # --- boxes ---------------------------------------------------------------------------------

    def set_boxes(self, states: Iterable[BoxState]) -> None:
        """Show exactly these boxes (the selection stays on a class still present)."""
        wanted = {s.bb_class: s for s in states}
        for bb_class in [c for c in self._boxes if c not in wanted]:
            self.set_box(bb_class, None)
        for bb_class, state in wanted.items():
            self.set_box(bb_class, state)

    def set_box(self, bb_class: str, state: BoxState | None) -> None:
        """Show, move or (with None) remove the box of one class."""
        item = self._boxes.get(bb_class)
        if state is None:
            if item is not None:
                if item is self._selected:
                    self.select_item(None)
                del self._boxes[bb_class]
                self.removeItem(item)
            return
        if item is None:
            item = BoxItem(state, self.bounds, self.box_edited.emit, self._layers["annotations"])
            item.set_view_scale(self._scale)
            self._boxes[bb_class] = item
        elif item.state != state:
            item.set_state(state)

    def box_item(self, bb_class: str) -> BoxItem | None:
        """The item of a class's box, if shown."""
        return self._boxes.get(bb_class)

    def box_states(self) -> list[BoxState]:
        """The boxes shown, by class."""
        return [self._boxes[c].state for c in sorted(self._boxes)]

    def select_box(self, bb_class: str | None) -> None:
        """Select the box of a class (None, or a class without a box: select nothing)."""
        item = self._boxes.get(bb_class) if bb_class is not None else None
        self.select_item(item if item is not None and self.layer_visible("annotations") else None)

    def selected_box(self) -> str | None:
        """The class of the selected box, if a box is selected."""
        return self._selected.bb_class if isinstance(self._selected, BoxItem) else None

    def select_item(self, item: BoxItem | PredictionItem | None) -> None:
        """Select one box or prediction (None: nothing), and say so."""
        previous = self._selected
        if item is previous:
            return
        if previous is not None:
            previous.set_selected(False)
        self._selected = item
        if item is not None:
            item.set_selected(True)
        if isinstance(previous, BoxItem) or isinstance(item, BoxItem):
            self.box_selected.emit(self.selected_box())
        if isinstance(previous, PredictionItem) or isinstance(item, PredictionItem):
            self.prediction_selected.emit(self.selected_prediction())

    # --- predictions ---------------------------------------------------------------------------

    def set_predictions(self, states: Iterable[PredictionState]) -> None:
        """Show these predicted boxes (those under the threshold stay hidden)."""
        if isinstance(self._selected, PredictionItem):
            self.select_item(None)
        for item in self._predictions:
            self.removeItem(item)
        self._predictions = [PredictionItem(s, self._layers["predictions"]) for s in states]
        for item in self._predictions:
            item.apply_threshold(self.threshold)

    def prediction_items(self) -> list[PredictionItem]:
        """The predicted boxes, shown or under the threshold."""
        return list(self._predictions)

    def set_prediction_threshold(self, threshold: float) -> None:
        """Hide predictions whose confidence is under ``threshold`` (0..1)."""
        self.threshold = threshold
        for item in self._predictions:
            item.apply_threshold(threshold)
            if item is self._selected and not item.isVisible():
                self.select_item(None)

    def selected_prediction(self) -> PredictionState | None:
        """The selected (visible) prediction, if any."""
        item = self._selected
        if isinstance(item, PredictionItem) and item.isVisible():
            return item.state
        return None

    # --- sync conflicts ------------------------------------------------------------------------

    def set_conflict_boxes(self, states: Iterable[ConflictBoxState]) -> None:
        """Show your versions of these boxes in conflict (over the central ones)."""
        for item in self._conflicts:
            self.removeItem(item)
        self._conflicts = [ConflictBoxItem(s, self._layers["conflicts"]) for s in states]

    def conflict_items(self) -> list[ConflictBoxItem]:
        """Your versions of boxes in conflict, as shown."""
        return list(self._conflicts)
