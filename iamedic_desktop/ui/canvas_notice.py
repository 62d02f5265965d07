"""A notice over the canvas with one or two buttons: what an edit removed, with Undo (at the
bottom); a sync conflict on the shown media, with Keep central / Keep mine (top right).

It stays for ``timeout_ms`` (or until the owner clears it at the next edit), or, shown with
``persistent``, until the owner dismisses it; its buttons never take the keyboard focus, so
the annotation keys keep working while it is up.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

NOTICE_TIMEOUT_MS = 8000
Action = tuple[str, Callable[[], None]]  # a button's text, what it does


class CanvasNoticeWidget(QFrame):
    """One line of text and one or two action buttons: at the bottom centre, or the top right."""

    def __init__(self, parent: QWidget, *, at_top: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("canvasNotice")
        self._at_top = at_top
        self.setStyleSheet(
            "#canvasNotice { background: rgba(33, 37, 41, 230); border-radius: 6px; }"
            "#canvasNotice QLabel { color: #ffffff; font-weight: bold; }"
        )
        self.label = QLabel(self)
        self.button = QPushButton(self)
        self.second_button = QPushButton(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label)
        self._actions: list[Callable[[], None] | None] = [None, None]
        for index, button in enumerate((self.button, self.second_button)):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _checked=False, i=index: self._clicked(i))
            layout.addWidget(button)
        self.second_button.hide()
        self.timeout_ms = NOTICE_TIMEOUT_MS
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    def show_notice(
        self,
        text: str,
        action_text: str,
        action: Callable[[], None],
        *,
        second: Action | None = None,
        persistent: bool = False,
    ) -> None:
        """Show ``text`` with a button ``action_text`` that calls ``action`` (once), and maybe
        a ``second`` one; ``persistent``: until dismissed, not for ``timeout_ms``."""
        self.label.setText(text)
        self.button.setText(action_text)
        self.second_button.setText(second[0] if second else "")
        self.second_button.setVisible(second is not None)
        self._actions = [action, second[1] if second else None]
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()
        if persistent:
            self._timer.stop()
        else:
            self._timer.start(self.timeout_ms)

    def dismiss(self) -> None:
        """Take the notice away."""
        self._timer.stop()
        self._actions = [None, None]
        self.label.setText("")
        self.hide()

    def text(self) -> str:
        """The notice shown ("" when none)."""
        return self.label.text() if self.isVisible() else ""

    def place(self) -> None:
        """Take its place in the parent (called again when it is resized)."""
        parent = self.parentWidget()
        if parent is None:
            return
        if self._at_top:  # top right: the badges hold the top left corner
            self.move(max(parent.width() - self.width() - 8, 0), 8)
        else:
            self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 16)

    def _clicked(self, index: int) -> None:
        action = self._actions[index]
        self.dismiss()
        if action is not None:
            action()
