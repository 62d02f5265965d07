"""The nine box classes as buttons, with their keys (1-9) and colours, and which are drawn."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QSizePolicy, QToolButton, QWidget

from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.ui.class_colors import class_color, class_key

_SWATCH_PX = 12
_COLUMNS = 2  # narrow enough for a 300-pixel dock


def _swatch(color: QColor, filled: bool) -> QIcon:
    pixmap = QPixmap(_SWATCH_PX, _SWATCH_PX)
    pixmap.fill(color if filled else QColor(0, 0, 0, 0))
    if not filled:  # an outline: the class has no box on this frame yet
        painter = QPainter(pixmap)
        painter.setPen(QPen(color, 2))
        painter.drawRect(1, 1, _SWATCH_PX - 2, _SWATCH_PX - 2)
        painter.end()
    return QIcon(pixmap)


class ClassPickerWidget(QWidget):
    """Pick the class of the next box; a filled swatch marks a class drawn on this frame."""

    class_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[str, QToolButton] = {}
        self._present: dict[str, bool] = {}  # class -> hidden
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for index, bb_class in enumerate(BB_CLASSES):
            button = QToolButton(self)
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            # A line of text and a little air: five rows fit a 720 px screen under a title bar.
            button.setFixedHeight(button.fontMetrics().height() + 8)
            button.clicked.connect(lambda _=False, c=bb_class: self.class_chosen.emit(c))
            self._group.addButton(button)
            self._buttons[bb_class] = button
            layout.addWidget(button, index // _COLUMNS, index % _COLUMNS)
        self.set_present({})

    def set_current(self, bb_class: str) -> None:
        """Check the button of the class new boxes get."""
        button = self._buttons.get(bb_class)
        if button is not None:
            button.setChecked(True)

    def current(self) -> str | None:
        """The checked class."""
        for bb_class, button in self._buttons.items():
            if button.isChecked():
                return bb_class
        return None

    def set_present(self, present: dict[str, bool]) -> None:
        """Which classes have a box on this frame (class -> hidden)."""
        self._present = dict(present)
        for bb_class, button in self._buttons.items():
            drawn = bb_class in present
            hidden = present.get(bb_class, False)
            button.setIcon(_swatch(class_color(bb_class), drawn))
            button.setText(f"{class_key(bb_class)} {bb_class}")
            font = button.font()
            font.setBold(drawn)
            font.setItalic(hidden)
            button.setFont(font)
            state = "hidden box" if hidden else "box drawn" if drawn else "no box yet"
            button.setToolTip(f"{bb_class} (key {class_key(bb_class)}): {state}")

    def button(self, bb_class: str) -> QToolButton:
        """The button of a class (tests click it)."""
        return self._buttons[bb_class]
