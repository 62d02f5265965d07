"""Doctor registration in the window: the form, then the registration's status and notes.

A signed-in user without an approved registration sees this page over the review area: the
form (matriculation id, legal name, specialization) until they register, then whether the
registration is pending, approved or denied, with the administrator's notes. A refusal is
shown beside the field it is about. The page only shows and collects; the controller submits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.schemas.doctor_profiles import DoctorProfileDTO

# Field name (the service's keyword) -> the words the services' messages use for it.
FIELDS = {
    "matriculation_id": ("Matriculation id", "matriculation id"),
    "legal_name": ("Legal name", "legal name"),
    "specialization": ("Specialization", "specialization"),
}
STATUS_TEXT = {
    "pending": "Your doctor registration is waiting for an administrator's approval.",
    "approved": "Your doctor registration is approved.",
    "denied": "Your doctor registration was denied. A denial is final; ask an administrator "
    "if you think it is a mistake.",
}


class RegistrationPanel(QFrame):
    """The registration form, or the status of the registration already made."""

    submitted = Signal(dict, bool)  # field values, whether it edits a pending registration

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registrationPanel")
        self._editing = False
        self._profile: DoctorProfileDTO | None = None
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self._form_page())
        self.stack.addWidget(self._status_page())
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.stack, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def _form_page(self) -> QWidget:
        page = QWidget(objectName="registrationForm")
        self.intro = QLabel(objectName="registrationIntro", wordWrap=True)
        form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for name, (label, _words) in FIELDS.items():
            edit = QLineEdit(objectName=f"registration_{name}")
            edit.returnPressed.connect(self.submit)
            error = QLabel(objectName=f"registration_{name}_error", wordWrap=True)
            error.setStyleSheet("color: #c62828")
            error.hide()
            column = QVBoxLayout()
            column.addWidget(edit)
            column.addWidget(error)
            form.addRow(label, column)
            self.edits[name], self.errors[name] = edit, error
        self.general_error = QLabel(objectName="registrationError", wordWrap=True)
        self.general_error.setStyleSheet("color: #c62828")
        self.general_error.hide()
        self.submit_button = QPushButton("Submit registration", objectName="registrationSubmit")
        self.submit_button.clicked.connect(self.submit)
        layout = QVBoxLayout(page)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.submit_button, 0, Qt.AlignmentFlag.AlignRight)
        page.setMinimumWidth(420)
        return page

    def _status_page(self) -> QWidget:
        page = QWidget(objectName="registrationStatusPage")
        self.status_label = QLabel(objectName="registrationStatus", wordWrap=True)
        self.details_label = QLabel(objectName="registrationDetails", wordWrap=True)
        self.notes_label = QLabel(objectName="registrationNotes", wordWrap=True)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.edit_button = QPushButton("Edit registration…", objectName="registrationEdit")
        self.edit_button.clicked.connect(self._edit)
        layout = QVBoxLayout(page)
        for widget in (self.status_label, self.details_label, self.notes_label):
            layout.addWidget(widget)
        layout.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignRight)
        page.setMinimumWidth(420)
        return page

    # --- what is shown ------------------------------------------------------------------------

    @property
    def showing_form(self) -> bool:
        """Whether the form (not the status) is shown."""
        return self.stack.currentIndex() == 0

    def show_profile(self, profile: DoctorProfileDTO | None) -> None:
        """The form before a registration; its status (and notes) after."""
        self._profile = profile
        self._editing = False
        self.submit_button.setEnabled(True)
        if profile is None:
            self.intro.setText(
                "To annotate studies, register as a doctor. An administrator checks your "
                "registration before doctor work opens."
            )
            self._show_form()
            return
        self.status_label.setText(STATUS_TEXT.get(profile.status, profile.status))
        self.details_label.setText(
            f"Matriculation id: {profile.matriculation_id}\nLegal name: {profile.legal_name}\n"
            f"Specialization: {profile.specialization}"
        )
        notes = profile.notes or "none yet"
        self.notes_label.setText(f"Administrator's notes: {notes}")
        self.edit_button.setVisible(profile.status == "pending")
        self.stack.setCurrentIndex(1)

    def _show_form(self) -> None:
        self._clear_errors()
        self.stack.setCurrentIndex(0)
        self.focus_first()

    def focus_first(self) -> None:
        """Put the cursor where typing starts: the form's first field, or the Edit button."""
        if self.showing_form:
            self.edits["matriculation_id"].setFocus()
        elif self.edit_button.isVisibleTo(self):
            self.edit_button.setFocus()

    def _edit(self) -> None:
        profile = self._profile
        if profile is None:
            return
        self._editing = True
        self.intro.setText(
            "Edit your registration; it stays pending until an administrator decides, and "
            "earlier notes are cleared."
        )
        for name, edit in self.edits.items():
            edit.setText(str(getattr(profile, name)))
        self._show_form()

    def submit(self) -> None:
        """Hand the typed values to the controller (it submits them off the UI thread)."""
        self._clear_errors()
        self.submit_button.setEnabled(False)
        values = {name: edit.text() for name, edit in self.edits.items()}
        self.submitted.emit(values, self._editing)

    def show_refusal(self, message: str) -> None:
        """A refusal beside the field it names (else under the form); the form stays filled."""
        self.submit_button.setEnabled(True)
        lowered = message.lower()
        for name, (_label, words) in FIELDS.items():
            if words in lowered:
                self.errors[name].setText(message)
                self.errors[name].show()
                self.edits[name].setFocus()
                self.edits[name].selectAll()
                return
        self.general_error.setText(message)
        self.general_error.show()

    def field_error(self, name: str) -> str:
        """The refusal shown beside a field ("" when none)."""
        return self.errors[name].text() if self.errors[name].isVisibleTo(self) else ""

    def _clear_errors(self) -> None:
        for label in (*self.errors.values(), self.general_error):
            label.clear()
            label.hide()
