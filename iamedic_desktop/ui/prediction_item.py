"""A model's predicted box on the canvas: dashed, labelled with class, confidence and model.

Never edited (a prediction is the model's record); it can be selected so that it is accepted
as the clinician's box of its class. Hidden while its confidence is under the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSceneMouseEvent

from iamedic_desktop.ui.box_item import PEN_PX, SELECTED_PEN_PX
from iamedic_desktop.ui.class_colors import class_color
from iamedic_desktop.ui.tag_item import TagItem

_DASHES = [6.0, 4.0]


@dataclass(frozen=True)
class PredictionState:
    """A predicted box as shown: class, rectangle in image pixels, confidence, model version."""

    bb_class: str
    x: float
    y: float
    width: float
    height: float
    confidence: float
    model_version: str

    def rect(self) -> QRectF:
        """The predicted box in image pixels."""
        return QRectF(self.x, self.y, self.width, self.height)

    @classmethod
    def from_dto(cls, dto: Any) -> PredictionState:
        """From a ``BoxPredictionDTO``."""
        return cls(
            dto.bb_class,
            dto.x_min,
            dto.y_min,
            dto.width,
            dto.height,
            dto.confidence,
            dto.model_version,
        )


def short_version(model_version: str) -> str:
    """ "v3" for "fetal_structures_bb_regressor_224x224 - 3" (the full name is the tooltip)."""
    _name, sep, number = model_version.rpartition(" - ")
    return f"v{number}" if sep else model_version


def prediction_label(state: PredictionState) -> str:
    """The label drawn on a prediction: class, confidence and model version."""
    return f"{state.bb_class} {state.confidence:.2f} {short_version(state.model_version)}"


class PredictionItem(QGraphicsRectItem):
    """A dashed box in its class colour; selected by a click (to accept it), never moved."""

    def __init__(self, state: PredictionState, parent: QGraphicsItem | None = None) -> None:
        super().__init__(0, 0, state.width, state.height, parent)
        self.state = state
        self.setPos(state.x, state.y)
        color = class_color(state.bb_class)
        self._pen = QPen(color, PEN_PX)
        self._selected_pen = QPen(QColor("#ffffff"), SELECTED_PEN_PX)
        for pen in (self._pen, self._selected_pen):
            pen.setCosmetic(True)
            # Long dashes (in pen widths): Qt's default pattern costs half again as much to
            # draw, and a 12-pixel dash still reads as "dashed" at a glance.
            pen.setDashPattern(_DASHES)
        self._selected = False
        self.setPen(self._pen)
        # Under the box, so the label of an annotation drawn on top of it stays readable.
        self._tag = TagItem(self, prediction_label(state), color.darker(160), below=True)
        self._tag.setPos(0, state.height)
        self.setToolTip(
            f"Prediction of {state.model_version}: {state.bb_class}, "
            f"confidence {state.confidence:.2f}"
        )
        self.setZValue(-1)

    @property
    def bb_class(self) -> str:
        """The predicted class."""
        return self.state.bb_class

    def tag_text(self) -> str:
        """The text of the prediction's label."""
        return self._tag.text()

    def is_selected(self) -> bool:
        """Whether this prediction is selected (to be accepted)."""
        return self._selected

    def set_selected(self, selected: bool) -> None:
        """Show or drop the selection look (a white dashed outline)."""
        self._selected = selected
        self.setPen(self._selected_pen if selected else self._pen)

    def apply_threshold(self, threshold: float) -> None:
        """Show the prediction only when its confidence reaches ``threshold``."""
        self.setVisible(self.state.confidence >= threshold)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        select = getattr(self.scene(), "select_item", None)
        if select is not None:
            select(self)
        else:
            self.set_selected(True)
        event.accept()
