"""A clinician's box on the canvas: solid, in its class colour, moved and resized by the mouse.

Coordinates are pixels of the image (the scene's unit). Pens are cosmetic and handles and
labels keep their size on screen, so zooming never thickens a line or hides a handle. The item
edits only itself while the mouse is down and reports one edit on release; storing it is the
controller's business. Boxes and labels are Qt's own rectangle and text items, painted in C++:
a Python ``paint`` per box would cost 20 ms a repaint for 500 boxes (benchmarks/bench_canvas.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from iamedic_desktop.ui.class_colors import class_color
from iamedic_desktop.ui.tag_item import TagItem

MIN_BOX_PX = 10.0  # the web's smallest box (media_rules.MIN_BOX_SIZE)
HANDLE_PX = 9.0  # handle side on screen
PEN_PX = 2.0
SELECTED_PEN_PX = 3.0

# Handles clockwise from the top-left corner: which edges each one moves (left, top, right, bottom).
_HANDLE_EDGES = (
    (True, True, False, False),
    (False, True, False, False),
    (False, True, True, False),
    (False, False, True, False),
    (False, False, True, True),
    (False, False, False, True),
    (True, False, False, True),
    (True, False, False, False),
)
_HANDLE_CURSORS = (
    Qt.CursorShape.SizeFDiagCursor,
    Qt.CursorShape.SizeVerCursor,
    Qt.CursorShape.SizeBDiagCursor,
    Qt.CursorShape.SizeHorCursor,
    Qt.CursorShape.SizeFDiagCursor,
    Qt.CursorShape.SizeVerCursor,
    Qt.CursorShape.SizeBDiagCursor,
    Qt.CursorShape.SizeHorCursor,
)
_MOVE = -1

EditCallback = Callable[[str, QRectF, QRectF], None]  # class, rect before, rect after


@dataclass(frozen=True)
class BoxState:
    """A box as shown: its class, its rectangle in image pixels and whether it is hidden."""

    bb_class: str
    x: float
    y: float
    width: float
    height: float
    hidden: bool = False

    def rect(self) -> QRectF:
        """The box in image pixels."""
        return QRectF(self.x, self.y, self.width, self.height)

    def moved_to(self, rect: QRectF) -> BoxState:
        """The same box at ``rect``."""
        return BoxState(self.bb_class, rect.x(), rect.y(), rect.width(), rect.height(), self.hidden)

    @classmethod
    def from_dto(cls, dto: Any) -> BoxState:
        """From a ``BoxAnnotationDTO`` (or anything with the same fields)."""
        return cls(dto.bb_class, dto.x_min, dto.y_min, dto.width, dto.height, dto.is_hidden)


def _handle_pen() -> QPen:
    pen = QPen(QColor("#000000"), 1)
    pen.setCosmetic(True)
    return pen


class _HandlesItem(QGraphicsItem):
    """The 8 handles of the selected box, drawn at a fixed size on screen.

    The only Python-painted item of the layer, and only while its box is selected: hundreds
    of boxes repaint in C++ (QGraphicsRectItem), which keeps a repaint under a 60 Hz frame.
    Mouse events go to the box, at the same coordinates (this item sits at the box's origin).
    """

    def __init__(self, box: BoxItem) -> None:
        super().__init__(box)
        self._box = box
        self.setAcceptHoverEvents(True)

    def boundingRect(self) -> QRectF:
        m = (HANDLE_PX / 2 + SELECTED_PEN_PX) / self._box.view_scale
        return self._box.rect().adjusted(-m, -m, m, m)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        side = HANDLE_PX / max(scale, 1e-6)
        painter.setPen(_handle_pen())
        painter.setBrush(self._box.pen().color())
        for point in self._box.handle_points():
            painter.drawRect(QRectF(point.x() - side / 2, point.y() - side / 2, side, side))

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._box.hoverMoveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._box.mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._box.mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self._box.mouseReleaseEvent(event)


class BoxItem(QGraphicsRectItem):
    """An annotation box: select, move by dragging, resize by its 8 handles, within the image.

    Selection is the scene's (``select_item``), not Qt's: Qt's selected rectangle would be
    drawn over the handles.
    """

    def __init__(
        self,
        state: BoxState,
        bounds: QRectF,
        on_edit: EditCallback | None = None,
        parent: QGraphicsItem | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAcceptHoverEvents(True)
        self._bounds = QRectF(bounds)
        self._on_edit = on_edit
        self.view_scale = 1.0  # the view's zoom, for handle hit-testing in image pixels
        self._selected = False
        self._drag: tuple[int, QPointF, QRectF] | None = None
        self._state = state
        color = class_color(state.bb_class)
        self._pen = QPen(color, PEN_PX)
        self._pen.setCosmetic(True)
        self._selected_pen = QPen(color, SELECTED_PEN_PX)
        self._selected_pen.setCosmetic(True)
        self._fill = QColor(color)
        self._fill.setAlpha(40)
        self._tag = TagItem(self, state.bb_class, color)
        self._handles = _HandlesItem(self)
        self._handles.setVisible(False)
        self.set_state(state)

    # --- state ---------------------------------------------------------------------------------

    @property
    def bb_class(self) -> str:
        """The box's class, which also names it on its frame."""
        return self._state.bb_class

    @property
    def state(self) -> BoxState:
        """The box as shown now (during a drag, where the mouse has it)."""
        return self._state.moved_to(self.scene_rect())

    def set_state(self, state: BoxState) -> None:
        """Show ``state`` (position, size, hidden flag)."""
        self._state = state
        self._set_scene_rect(state.rect())
        hidden = " (hidden)" if state.hidden else ""
        self._tag.set_text(f"{state.bb_class}{hidden}")
        # Hidden: a dimmer, dotted line. Not item opacity, which costs about ten times
        # as much to paint (an opacity pass over the box and its label).
        color = class_color(state.bb_class)
        if state.hidden:
            color.setAlpha(200)
        self._tag.set_color(color.darker(130) if state.hidden else color)
        style = Qt.PenStyle.DotLine if state.hidden else Qt.PenStyle.SolidLine
        for pen in (self._pen, self._selected_pen):
            pen.setColor(color)
            pen.setStyle(style)
        self._apply_look()

    def is_selected(self) -> bool:
        """Whether this is the selected box (its handles show)."""
        return self._selected

    def set_selected(self, selected: bool) -> None:
        """Show or drop the selection look: thicker pen, light fill, handles."""
        self._selected = selected
        self._apply_look()

    def _apply_look(self) -> None:
        self.setPen(self._selected_pen if self._selected else self._pen)
        self.setBrush(self._fill if self._selected else Qt.BrushStyle.NoBrush)
        self._handles.setVisible(self._selected)

    def set_bounds(self, bounds: QRectF) -> None:
        """The image rectangle the box must stay inside."""
        self._bounds = QRectF(bounds)

    def set_view_scale(self, scale: float) -> None:
        """The view's zoom, so handles are hit where they are drawn."""
        if scale > 0 and scale != self.view_scale:
            self._handles.prepareGeometryChange()
            self.view_scale = scale

    def scene_rect(self) -> QRectF:
        """The box in image pixels."""
        return QRectF(self.pos(), self.rect().size())

    def tag_text(self) -> str:
        """The text of the box's label."""
        return self._tag.text()

    def _set_scene_rect(self, rect: QRectF) -> None:
        self._handles.prepareGeometryChange()
        self.setPos(rect.topLeft())
        self.setRect(QRectF(0, 0, rect.width(), rect.height()))
        # Smaller boxes above larger ones, so a box drawn inside another can still be picked.
        self.setZValue(-rect.width() * rect.height() / 1e9)

    # --- handles -------------------------------------------------------------------------------

    def handle_points(self) -> list[QPointF]:
        """The 8 handles in item coordinates, clockwise from the top-left corner."""
        r = self.rect()
        cx, cy = r.center().x(), r.center().y()
        return [
            r.topLeft(),
            QPointF(cx, r.top()),
            r.topRight(),
            QPointF(r.right(), cy),
            r.bottomRight(),
            QPointF(cx, r.bottom()),
            r.bottomLeft(),
            QPointF(r.left(), cy),
        ]

    def handle_at(self, pos: QPointF) -> int | None:
        """The handle under ``pos`` (item coordinates), if the box is selected."""
        if not self._selected:
            return None
        reach = (HANDLE_PX / 2 + 2) / self.view_scale
        for index, point in enumerate(self.handle_points()):
            if abs(pos.x() - point.x()) <= reach and abs(pos.y() - point.y()) <= reach:
                return index
        return None

    def handle_scene_pos(self, index: int) -> QPointF:
        """Where handle ``index`` (0 top-left, clockwise) is, in image pixels."""
        return self.mapToScene(self.handle_points()[index])

    # --- mouse ---------------------------------------------------------------------------------

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        handle = self.handle_at(event.pos())
        if handle is not None:
            self.setCursor(_HANDLE_CURSORS[handle])
        elif self._selected:
            self.setCursor(Qt.CursorShape.SizeAllCursor)
        else:
            self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        handle = self.handle_at(event.pos())
        if not self._selected:
            select = getattr(self.scene(), "select_item", None)
            if select is not None:
                select(self)
            else:
                self.set_selected(True)
        grip = _MOVE if handle is None else handle
        self._drag = (grip, event.scenePos(), self.scene_rect())
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is None:
            return
        grip, start, rect = self._drag
        delta = event.scenePos() - start
        dx, dy = round(delta.x()), round(delta.y())  # whole pixels: what is shown is stored
        if grip == _MOVE:
            moved = move_within(rect, dx, dy, self._bounds)
        else:
            moved = resize_within(rect, _HANDLE_EDGES[grip], dx, dy, self._bounds)
        if moved != self.scene_rect():
            self._set_scene_rect(moved)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._drag is None or event.button() != Qt.MouseButton.LeftButton:
            return
        _grip, _start, before = self._drag
        self._drag = None
        after = self.scene_rect()
        if after != before and self._on_edit is not None:
            self._on_edit(self.bb_class, before, after)


def move_within(rect: QRectF, dx: float, dy: float, bounds: QRectF) -> QRectF:
    """``rect`` moved by (dx, dy), then pushed back inside ``bounds``."""
    moved = rect.translated(dx, dy)
    x = min(max(moved.x(), bounds.left()), bounds.right() - moved.width())
    y = min(max(moved.y(), bounds.top()), bounds.bottom() - moved.height())
    return QRectF(max(x, bounds.left()), max(y, bounds.top()), moved.width(), moved.height())


def resize_within(
    rect: QRectF, edges: tuple[bool, bool, bool, bool], dx: float, dy: float, bounds: QRectF
) -> QRectF:
    """``rect`` with the chosen edges moved, inside ``bounds`` and at least MIN_BOX_PX a side."""
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    move_left, move_top, move_right, move_bottom = edges
    if move_left:
        left = min(max(left + dx, bounds.left()), right - MIN_BOX_PX)
    if move_right:
        right = max(min(right + dx, bounds.right()), left + MIN_BOX_PX)
    if move_top:
        top = min(max(top + dy, bounds.top()), bottom - MIN_BOX_PX)
    if move_bottom:
        bottom = max(min(bottom + dy, bounds.bottom()), top + MIN_BOX_PX)
    return QRectF(QPointF(left, top), QPointF(right, bottom))
