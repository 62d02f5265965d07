"""A box's label: its text on its colour, the same size on screen at every zoom."""

from __future__ import annotations

import math
from typing import ClassVar

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem

from iamedic_desktop.ui.class_colors import label_text_color

_MAX_PIXMAPS = 2000  # a few kilobytes each


def _label_font() -> QFont:
    font = QFont()
    font.setPixelSize(12)
    font.setBold(True)
    return font


class TagItem(QGraphicsPixmapItem):
    """A label at a corner of a box: text on its colour, the same size at every zoom.

    Drawn once into a pixmap shared by every label alike (a class name has nine colours at
    most): painting text anew for each of hundreds of labels would double a repaint's time.
    """

    _font: QFont | None = None
    _pixmaps: ClassVar[dict[tuple[str, str], QPixmap]] = {}

    def __init__(
        self, parent: QGraphicsItem, text: str, color: QColor, *, below: bool = False
    ) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._below = below  # drawn under its anchor point instead of above it
        self._text = ""
        self._color = QColor(color)
        self.set_text(text)

    @classmethod
    def font(cls) -> QFont:
        """The labels' font (made once, after the application exists)."""
        if cls._font is None:
            cls._font = _label_font()
        return cls._font

    def text(self) -> str:
        """The label's text."""
        return self._text

    def set_text(self, text: str) -> None:
        """Change the text, resizing the label."""
        self._text = text
        self._render()

    def set_color(self, color: QColor) -> None:
        """The background colour; the text turns black or white to stay readable."""
        self._color = QColor(color)
        self._render()

    def _render(self) -> None:
        key = (self._text, self._color.name(QColor.NameFormat.HexArgb))
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            if len(self._pixmaps) >= _MAX_PIXMAPS:  # predictions' confidences vary endlessly
                self._pixmaps.clear()
            pixmap = self._pixmaps[key] = _label_pixmap(self._text, self._color, self.font())
        self.setPixmap(pixmap)
        height = pixmap.height() / pixmap.devicePixelRatio()
        self.setOffset(0, 0 if self._below else -height)


def _label_pixmap(text: str, color: QColor, font: QFont) -> QPixmap:
    metrics = QFontMetricsF(font)
    width, height = metrics.horizontalAdvance(text) + 6, metrics.height() + 2
    app = QGuiApplication.instance()
    screen = QGuiApplication.primaryScreen() if app is not None else None
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    pixmap = QPixmap(math.ceil(width * ratio), math.ceil(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(color)
    painter = QPainter(pixmap)
    painter.setFont(font)
    painter.setPen(label_text_color(color))
    painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap
