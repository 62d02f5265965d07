"""A notice over the canvas saying what an edit removed, with a button that takes it back.

It stays for ``timeout_ms`` (or until the owner clears it at the next edit); its button never
takes the keyboard focus, so the annotation keys keep working while it is up.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

NOTICE_TIMEOUT_MS = 8000


class CanvasNoticeWidget(QFrame):
    """One line of text and one action button, centred at the bottom of its parent."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("canvasNotice")
        self.setStyleSheet(
            "#canvasNotice { background: rgba(33, 37, 41, 230); border-radius: 6px; }"
            "#canvasNotice QLabel { color: #ffffff; font-weight: bold; }"
        )
        self.label = QLabel(self)
        self.button = QPushButton(self)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.timeout_ms = NOTICE_TIMEOUT_MS
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.dismiss)
        self._action: Callable[[], None] | None = None
        self.button.clicked.connect(self._clicked)
        self.hide()

    def show_notice(self, text: str, action_text: str, action: Callable[[], None]) -> None:
        """Show ``text`` with a button ``action_text`` that calls ``action`` (once)."""
        self.label.setText(text)
        self.button.setText(action_text)
        self._action = action
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()
        self._timer.start(self.timeout_ms)

    def dismiss(self) -> None:
        """Take the notice away."""
        self._timer.stop()
        self._action = None
        self.label.setText("")
        self.hide()

    def text(self) -> str:
        """The notice shown ("" when none)."""
        return self.label.text() if self.isVisible() else ""

    def place(self) -> None:
        """Centre at the bottom of the parent (called again when it is resized)."""
        parent = self.parentWidget()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 16)

    def _clicked(self) -> None:
        action = self._action
        self.dismiss()
        if action is not None:
            action()
