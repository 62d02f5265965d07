"""The small modal shown while the browser sign-in runs: what to do, and a way to stop it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

WAITING_TEXT = "Waiting for sign-in in your browser…"


class SignInWaitingDialog(QDialog):
    """ "Waiting for sign-in in your browser… [Cancel]"; Cancel (or Escape) rejects it."""

    def __init__(self, issuer: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInWaitingDialog")
        self.setWindowTitle("Sign in")
        self.setModal(True)
        self.message = QLabel(WAITING_TEXT, objectName="signInWaitingText")
        where = QLabel(
            f"Finish signing in with {issuer} in the browser window that opened, then come "
            "back here.",
            objectName="signInWaitingHint",
            wordWrap=True,
        )
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(where)
        layout.addWidget(buttons)
        self.setMinimumWidth(360)

    def set_finishing(self) -> None:
        """The browser answered: the store is being set up for the user (no more cancelling)."""
        self.message.setText("Signed in: opening your studies…")
        self.cancel_button.setEnabled(False)
