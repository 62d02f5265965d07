"""Dialogs of the study browser: name a new study, rename one, confirm a deletion.

Each dialog only collects the decision: OK emits ``submitted`` and the dialog stays open, busy,
while its owner runs the service off the UI thread; the owner then calls ``finish`` (done) or
``show_error`` (the service's message under the field, the dialog ready again), so a taken
alias is explained where it was typed and nothing is lost.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.services.validation import ALIAS_MAX_LENGTH, clean_alias
from iamedic_desktop.ui import theme


class _StudyActionDialog(QDialog):
    """OK asks the owner to act; the dialog closes only when the owner says it is done."""

    submitted = Signal(str)

    def __init__(self, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self._layout = QVBoxLayout(self)
        self._error = QLabel("", objectName="dialogError", wordWrap=True)
        self._error.setStyleSheet(f"color: {theme.ERROR};")
        self._error.hide()
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button.setText(ok_text)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        self._busy = False

    def _finish_layout(self) -> None:
        self._layout.addWidget(self._error)
        self._layout.addWidget(self._buttons)

    @property
    def ok_button(self) -> QPushButton:
        """The button that submits (also Enter)."""
        button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    @property
    def error_text(self) -> str:
        """The message shown under the field ("" when none)."""
        return self._error.text() if self._error.isVisible() else ""

    @property
    def busy(self) -> bool:
        """True while the owner works on the submitted value."""
        return self._busy

    def value(self) -> str:
        """What OK submits."""
        return ""

    def accept(self) -> None:
        if self._busy or not self.ok_button.isEnabled():
            return
        self._set_busy(True)
        self._error.hide()
        self.submitted.emit(self.value())

    def reject(self) -> None:
        if not self._busy:  # a running request finishes first; its outcome is shown
            super().reject()

    def finish(self) -> None:
        """The owner succeeded: close."""
        self._set_busy(False)
        super().accept()

    def show_error(self, message: str) -> None:
        """The owner failed: say why, ready for another try."""
        self._set_busy(False)
        self._error.setText(message)
        self._error.show()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._buttons.setEnabled(not busy)


class StudyNameDialog(_StudyActionDialog):
    """Asks for a study alias: for a new study, or a new name of an existing one.

    The alias is checked as it is typed (the same pure check the service runs, no store
    involved): an invisible character or an id's spelling is named under the field and OK
    waits until it is gone; what needs the store (a taken alias) comes back from the service.
    """

    def __init__(
        self, *, title: str, ok_text: str, alias: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(title, ok_text, parent)
        prompt = QLabel("Alias (how you find this study; unique among your studies):")
        self.alias_edit = QLineEdit(alias, maxLength=ALIAS_MAX_LENGTH)
        self.alias_edit.setPlaceholderText("e.g. Twins week 12")
        self.alias_edit.selectAll()
        self.alias_edit.textChanged.connect(self._text_changed)
        self._layout.addWidget(prompt)
        self._layout.addWidget(self.alias_edit)
        self._finish_layout()
        # The buttons were made first, so they lead the focus chain: without this, typing
        # went nowhere and a space pressed a button. Enter submits (OK is the default).
        QWidget.setTabOrder(self.alias_edit, self.ok_button)
        self.ok_button.setDefault(True)
        self.alias_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self._text_changed(alias)
        self.resize(420, self.sizeHint().height())

    def value(self) -> str:
        return self.alias_edit.text().strip()

    def _text_changed(self, text: str) -> None:
        # A message about the previous text (the service's included) no longer applies.
        problem = _alias_problem(text)
        self._error.setText(problem or "")
        self._error.setVisible(problem is not None)
        self._update_ok()

    def _update_ok(self) -> None:
        text = self.alias_edit.text()
        self.ok_button.setEnabled(bool(text.strip()) and _alias_problem(text) is None)

    def _set_busy(self, busy: bool) -> None:
        super()._set_busy(busy)
        self.alias_edit.setReadOnly(busy)
        if not busy:
            self._update_ok()
            self.alias_edit.setFocus(Qt.FocusReason.OtherFocusReason)


def _alias_problem(text: str) -> str | None:
    """Why ``text`` cannot be an alias, or None (an empty field only keeps OK disabled)."""
    if not text.strip():
        return None
    try:
        clean_alias(text)
    except InvalidInputError as exc:
        return exc.message
    return None


class DeleteStudyDialog(_StudyActionDialog):
    """Confirms deleting a study (soft: it leaves the list, its records and files are kept)."""

    def __init__(self, alias: str, media_count: int, parent: QWidget | None = None) -> None:
        super().__init__("Delete study", "Delete", parent)
        self._alias = alias
        media = "no media" if media_count == 0 else f"{media_count} media"
        self.message = QLabel(
            f"Delete the study '{alias}' ({media})?\n\n"
            "It leaves your study list. Its media, stills and annotations are kept in the "
            "store, and its alias stays taken.",
            wordWrap=True,
        )
        self._layout.addWidget(self.message)
        self._finish_layout()
        # A slip of the Enter key must not delete: Cancel is the default.
        self.ok_button.setAutoDefault(False)
        self.ok_button.setDefault(False)
        cancel = self._buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setDefault(True)
            cancel.setFocus()
        self.resize(420, self.sizeHint().height())

    def value(self) -> str:
        return self._alias
