"""This workstation's version of a box in conflict, drawn over the central one the store holds.

Dashed, in a colour apart from every class hue, labelled "NT – your version" inside its bottom
left corner (the central box's label sits above its box, a prediction's under its box: all three
stay readable). Never edited nor selected: clicks go through to the boxes beneath; the canvas
notice and the sync panel resolve the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from iamedic_desktop.ui.box_item import PEN_PX
from iamedic_desktop.ui.tag_item import TagItem

CONFLICT_COLOR = QColor("#ff3df2")  # magenta: apart from every class hue on grey speckle
_DASHES = [3.0, 2.0]  # shorter than a prediction's: "another version", not "a model's"


@dataclass(frozen=True)
class ConflictBoxState:
    """Your version of a box in conflict: the conflict, the class and where you had it."""

    conflict_id: int
    bb_class: str
    x: float
    y: float
    width: float
    height: float
    hidden: bool = False

    def rect(self) -> QRectF:
        """The box in image pixels."""
        return QRectF(self.x, self.y, self.width, self.height)

    @classmethod
    def from_row(cls, conflict_id: int, row: dict[str, Any]) -> ConflictBoxState:
        """From a box row as the sync keeps it (``picture_bb_annotations`` values)."""
        return cls(
            conflict_id,
            str(row["bb_class"]),
            float(row["x_min"]),
            float(row["y_min"]),
            float(row["width"]),
            float(row["height"]),
            bool(row.get("is_hidden")),
        )


def conflict_label(state: ConflictBoxState) -> str:
    """ "NT – your version" (with "hidden" when you had it hidden)."""
    hidden = ", hidden" if state.hidden else ""
    return f"{state.bb_class} – your version{hidden}"


class ConflictBoxItem(QGraphicsRectItem):
    """A dashed magenta box with its label under it; transparent to the mouse."""

    def __init__(self, state: ConflictBoxState, parent: QGraphicsItem | None = None) -> None:
        super().__init__(0, 0, state.width, state.height, parent)
        self.state = state
        self.setPos(state.x, state.y)
        pen = QPen(CONFLICT_COLOR, PEN_PX)
        pen.setCosmetic(True)
        pen.setDashPattern(_DASHES)
        self.setPen(pen)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self._tag = TagItem(self, conflict_label(state), CONFLICT_COLOR)
        self._tag.setPos(0, state.height)  # drawn upwards from the bottom edge: inside
        self.setToolTip(
            f"Your version of the {state.bb_class} box; the central database has another. "
            "Keep one of them with the notice below or in the sync panel."
        )

    @property
    def bb_class(self) -> str:
        """The class of the box in conflict."""
        return self.state.bb_class

    def tag_text(self) -> str:
        """The text of the label."""
        return self._tag.text()
