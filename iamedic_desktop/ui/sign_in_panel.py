"""The "Sign-in required" page, and how an account page covers the review area.

An account page (this one, the doctor registration) lies over the review area as a child that
follows its size, so the window's layout, docks and central widget stay as they are.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

CLI_HINT = ": run iamedic login"


class PageCover(QObject):
    """Lays ``page`` over ``host`` (same size, on top) while shown."""

    def __init__(self, host: QWidget, page: QWidget) -> None:
        super().__init__(page)
        self._host = host
        self._page = page
        page.setParent(host)
        page.setAutoFillBackground(True)
        page.hide()
        host.installEventFilter(self)

    def show(self) -> None:
        """Cover the host."""
        self._page.setGeometry(self._host.rect())
        self._page.raise_()
        self._page.show()

    def hide(self) -> None:
        """Uncover the host."""
        self._page.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self._page.setGeometry(self._host.rect())
        return False


class SignInPanel(QFrame):
    """Why no studies are shown (nobody signed in), with a Sign in button."""

    sign_in_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInPanel")
        title = QLabel("Sign-in required", objectName="signInTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        self.reason = QLabel(objectName="signInReason", wordWrap=True)
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton("Sign in…", objectName="signInButton")
        self.button.setDefault(True)
        self.button.clicked.connect(self.sign_in_requested)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, self.reason, self.button):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def set_reason(self, message: str) -> None:
        """Say why (signed out, offline too long); the window's own button replaces the CLI's."""
        text = message.replace(CLI_HINT, "")
        self.reason.setText(
            f"{text}\nSign in with your account to open your studies on this workstation."
        )
