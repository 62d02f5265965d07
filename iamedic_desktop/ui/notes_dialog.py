"""The small dialog an admin's approval or denial goes through: an optional note for the applicant.

The note field has the focus, so the admin types at once; Enter confirms, Escape cancels.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.services.validation import NOTES_MAX_LENGTH


class NotesDialog(QDialog):
    """Asks for an optional note; ``notes()`` is None when the field was left empty."""

    def __init__(
        self, *, title: str, prompt: str, ok_text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt, wordWrap=True))
        self.notes_edit = QLineEdit(maxLength=NOTES_MAX_LENGTH)
        self.notes_edit.setPlaceholderText("Optional: the applicant reads this note")
        layout.addWidget(self.notes_edit)
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button.setText(ok_text)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        layout.addWidget(self._buttons)
        # The buttons must not lead the focus chain: typing goes to the note, Enter confirms.
        QWidget.setTabOrder(self.notes_edit, self.ok_button)
        self.ok_button.setDefault(True)
        self.notes_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.resize(440, self.sizeHint().height())

    @property
    def ok_button(self) -> QPushButton:
        """The button that confirms (also Enter)."""
        button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    def notes(self) -> str | None:
        """The note typed, or None when there is none."""
        return self.notes_edit.text().strip() or None
