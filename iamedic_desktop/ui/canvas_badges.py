"""The badges in the canvas corner: the usefulness label, and "Saving" until an edit commits."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

USEFULNESS_BADGES = {1: ("Useful", "#2f9e44"), 0: ("Not useful", "#c92a2a")}
NO_LABEL = ("No label", "#495057")
SAVING = ("Saving", "#e67700")
BADGE_AREA = QRect(0, 0, 220, 64)  # what to repaint when a badge changes


def paint_badges(painter: QPainter, usefulness: int | None, saving: bool) -> None:
    """Paint the badges in viewport coordinates (the caller's transform is restored)."""
    label = USEFULNESS_BADGES.get(usefulness, NO_LABEL) if usefulness is not None else NO_LABEL
    badges = [label, SAVING] if saving else [label]
    painter.save()
    painter.resetTransform()
    font = painter.font()
    font.setPixelSize(13)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    for row, (text, color) in enumerate(badges):
        width = painter.fontMetrics().horizontalAdvance(text) + 16
        badge = QRectF(8, 8 + 26 * row, width, 22)
        painter.fillRect(badge, QColor(color))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
