"""The statistics' two plots, painted with QPainter: a confusion-matrix heat map and a
per-class AP bar chart.

Both hold plain numbers set from the UI thread and repaint themselves; nothing is computed here.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from iamedic_desktop.ui import theme

_MARGIN = 8.0
_LABEL_W = 92.0
_HEADER_H = 22.0


def _mix(low: QColor, high: QColor, share: float) -> QColor:
    """The colour ``share`` (0..1) of the way from ``low`` to ``high``."""
    share = min(max(share, 0.0), 1.0)
    return QColor(
        round(low.red() + (high.red() - low.red()) * share),
        round(low.green() + (high.green() - low.green()) * share),
        round(low.blue() + (high.blue() - low.blue()) * share),
    )


class ConfusionMatrixWidget(QWidget):
    """Truth in rows (useful, not useful), prediction in columns; darker blue is more media."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrixPlot")
        self.setMinimumSize(260, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._cells: tuple[tuple[int, int], tuple[int, int]] | None = None

    def set_counts(self, tp: int, fp: int, fn: int, tn: int) -> None:
        """Show these counts."""
        self._cells = ((tp, fn), (fp, tn))
        self.update()

    def clear(self) -> None:
        """Show nothing (no classification for the selected version)."""
        self._cells = None
        self.update()

    def cells(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The counts shown, rows = truth (useful first), columns = prediction (useful first)."""
        return self._cells

    def sizeHint(self) -> QSize:
        return QSize(320, 180)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(theme.BASE))
        painter.setPen(QColor(theme.MUTED))
        if self._cells is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No classification")
            painter.end()
            return
        grid = QRectF(self.rect()).adjusted(
            _MARGIN + _LABEL_W, _MARGIN + _HEADER_H, -_MARGIN, -_MARGIN
        )
        cell_w, cell_h = grid.width() / 2, grid.height() / 2
        words = ("Useful", "Not useful")
        for i, word in enumerate(words):
            top = QRectF(grid.left() + i * cell_w, _MARGIN, cell_w, _HEADER_H)
            painter.drawText(top, Qt.AlignmentFlag.AlignCenter, f"Predicted {word.lower()}")
            side = QRectF(_MARGIN, grid.top() + i * cell_h, _LABEL_W - 4, cell_h)
            painter.drawText(side, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             f"Labelled\n{word.lower()}")  # fmt: skip
        largest = max(max(row) for row in self._cells) or 1
        low, high = QColor(theme.PANEL), QColor(theme.ACCENT)
        for r, row in enumerate(self._cells):
            for c, count in enumerate(row):
                box = QRectF(grid.left() + c * cell_w, grid.top() + r * cell_h, cell_w, cell_h)
                painter.fillRect(box.adjusted(1, 1, -1, -1), _mix(low, high, count / largest))
                painter.setPen(QColor(theme.TEXT_STRONG))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.end()


class ApBarChartWidget(QWidget):
    """One bar per box class, its height the class's AP (0..1); "n/a" where AP is undefined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("apBarChart")
        self.setMinimumSize(320, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._bars: list[tuple[str, float | None]] = []

    def set_values(self, bars: list[tuple[str, float | None]]) -> None:
        """Show these (class, AP) bars, in this order."""
        self._bars = list(bars)
        self.update()

    def values(self) -> list[tuple[str, float | None]]:
        """The (class, AP) bars shown."""
        return list(self._bars)

    def sizeHint(self) -> QSize:
        return QSize(460, 200)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.BASE))
        painter.setPen(QColor(theme.MUTED))
        if not self._bars:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No boxes")
            painter.end()
            return
        label_h, axis_w = 34.0, 30.0
        # Room above for the value over a full bar.
        plot = QRectF(self.rect()).adjusted(
            _MARGIN + axis_w, _MARGIN + 16, -_MARGIN, -_MARGIN - label_h
        )
        painter.setPen(QColor(theme.BORDER))
        for level in (0.0, 0.5, 1.0):  # grid lines, labelled on the left
            y = plot.bottom() - level * plot.height()
            painter.drawLine(round(plot.left()), round(y), round(plot.right()), round(y))
            painter.drawText(QRectF(_MARGIN, y - 8, axis_w - 4, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{level:g}")  # fmt: skip
        slot = plot.width() / len(self._bars)
        for i, (name, ap) in enumerate(self._bars):
            left = plot.left() + i * slot
            label = QRectF(left, plot.bottom() + 2, slot, label_h)
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(label, Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, name)
            if ap is None:
                painter.drawText(QRectF(left, plot.bottom() - 18, slot, 16),
                                 Qt.AlignmentFlag.AlignCenter, "n/a")  # fmt: skip
                continue
            height = ap * plot.height()
            bar = QRectF(left + slot * 0.2, plot.bottom() - height, slot * 0.6, height)
            painter.fillRect(bar, QColor(theme.ACCENT))
            painter.setPen(QColor(theme.TEXT))
            painter.drawText(QRectF(left, bar.top() - 16, slot, 16),
                             Qt.AlignmentFlag.AlignCenter, f"{ap:.2f}")  # fmt: skip
        painter.end()
