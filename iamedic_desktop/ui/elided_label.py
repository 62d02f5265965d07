"""A label that never widens its panel: long text is cut with "…" and shown whole in a tooltip.

A plain QLabel asks for the width of its whole text as its minimum, so a 255-character study
alias or a 500-character file name widens its dock, and the dock the window (thousands of
pixels, saved with the layout). This label asks for a few characters at most and elides the
rest to the width it is given, line by line.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 8  # the narrowest it asks to be, in average characters


def elide(text: str, label: QLabel, width: int) -> str:
    """``text`` cut to ``width`` pixels in ``label``'s font, each line on its own."""
    metrics = label.fontMetrics()
    mode = Qt.TextElideMode.ElideRight
    return "\n".join(metrics.elidedText(line, mode, max(width, 0)) for line in text.split("\n"))


class ElidedLabel(QLabel):
    """Shows as much of its text as fits; the whole text is the tooltip when it does not fit.

    A drop-in QLabel for Python callers: ``setText`` and ``text`` take and give the whole text.
    """

    def __init__(
        self, text: str = "", parent: QWidget | None = None, *, object_name: str = ""
    ) -> None:
        super().__init__(parent)
        if object_name:
            self.setObjectName(object_name)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = ""
        self.setText(text)

    def text(self) -> str:
        """The text as given, before eliding (what is shown may end in "…")."""
        return self._full

    def setText(self, text: str) -> None:
        """Show ``text``, elided to the label's width."""
        self._full = text
        self.updateGeometry()
        self._elide()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        narrow = self.fontMetrics().averageCharWidth() * MIN_CHARS
        return QSize(min(hint.width(), narrow), hint.height())

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        lines = self._full.split("\n") or [""]
        width = max(metrics.horizontalAdvance(line) for line in lines)
        margins = self.contentsMargins()
        return QSize(
            width + margins.left() + margins.right() + 2 * self.margin(),
            super().sizeHint().height(),
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width() - 2 * self.margin()
        shown = elide(self._full, self, width)
        QLabel.setText(self, shown)
        self.setToolTip(self._full if shown != self._full else "")
