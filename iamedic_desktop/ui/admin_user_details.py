"""The administration's details panel: the selected user, their registration, and what to do.

The panel shows one ``AdminUserDTO`` and emits ``action_requested`` with the action's name; it
runs nothing itself. Each button says what it would do to this user now (Grant admin or Revoke
admin, Deactivate or Reactivate). The services decide what is allowed: a refusal (the last
admin, one's own account, a denied registration) comes back as their message.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.schemas.users import AdminUserDTO
from iamedic_desktop.services.administration import (
    APPROVE,
    DEACTIVATE,
    DENY,
    GRANT_ADMIN,
    GRANT_DOCTOR,
    REACTIVATE,
    REVOKE_ADMIN,
    REVOKE_DOCTOR,
)
from iamedic_desktop.ui.admin_user_table_model import roles_text, status_text

_FIELDS = (
    ("Name", "name"),
    ("E-mail", "email"),
    ("Roles", "roles"),
    ("Account", "account"),
    ("Registration", "status"),
    ("Matriculation id", "matriculation_id"),
    ("Legal name", "legal_name"),
    ("Specialization", "specialization"),
    ("Notes", "notes"),
)


class AdminUserDetails(QWidget):
    """One user's details and the buttons that act on them (disabled with nobody selected)."""

    action_requested = Signal(str, object)  # action name, the AdminUserDTO

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._user: AdminUserDTO | None = None
        box = QGroupBox("Selected user", self)
        form = QFormLayout(box)
        self.values: dict[str, QLabel] = {}
        for label, key in _FIELDS:
            value = QLabel("", wordWrap=True, objectName=f"detail_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", value)
            self.values[key] = value
        self.approve_button = self._button("Approve…", APPROVE)
        self.deny_button = self._button("Deny…", DENY)
        self.admin_button = self._button("Grant admin", GRANT_ADMIN)
        self.doctor_button = self._button("Grant doctor", GRANT_DOCTOR)
        self.active_button = self._button("Deactivate", DEACTIVATE)
        # Beside the profile, not under it: the tab lives in a dialog with little height.
        buttons = QVBoxLayout()
        for button in (self.approve_button, self.deny_button, self.admin_button,
                       self.doctor_button, self.active_button):  # fmt: skip
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box, 1)
        layout.addLayout(buttons)
        self.show_user(None)

    def _button(self, text: str, action: str) -> QPushButton:
        button = QPushButton(text, self, objectName=f"{action}_button")
        button.setAutoDefault(False)
        # The action is read when clicked: a toggle's name follows the user's state.
        button.clicked.connect(lambda _checked=False, b=button: self._clicked(b))
        button.setProperty("action", action)
        return button

    @property
    def user(self) -> AdminUserDTO | None:
        """The user shown, or None."""
        return self._user

    def show_user(self, user: AdminUserDTO | None) -> None:
        """Show ``user`` (None: nobody selected) and set the buttons for their state."""
        self._user = user
        values = _values(user) if user is not None else {}
        for key, label in self.values.items():
            label.setText(values.get(key) or "—")
        has_profile = user is not None and user.profile_id is not None
        self.approve_button.setEnabled(has_profile)
        self.deny_button.setEnabled(has_profile)
        for button in (self.admin_button, self.doctor_button, self.active_button):
            button.setEnabled(user is not None)
        roles = user.roles if user is not None else []
        self._toggle(self.admin_button, "admin" in roles, "Revoke admin", REVOKE_ADMIN,
                     "Grant admin", GRANT_ADMIN)  # fmt: skip
        self._toggle(self.doctor_button, "doctor" in roles, "Revoke doctor", REVOKE_DOCTOR,
                     "Grant doctor", GRANT_DOCTOR)  # fmt: skip
        active = user is None or user.is_active
        self._toggle(self.active_button, active, "Deactivate", DEACTIVATE,
                     "Reactivate", REACTIVATE)  # fmt: skip

    @staticmethod
    def _toggle(
        button: QPushButton, on: bool, on_text: str, on_action: str, off_text: str, off_action: str
    ) -> None:
        button.setText(on_text if on else off_text)
        button.setProperty("action", on_action if on else off_action)

    def _clicked(self, button: QPushButton) -> None:
        if self._user is not None:
            self.action_requested.emit(str(button.property("action")), self._user)


def _values(user: AdminUserDTO) -> dict[str, str | None]:
    return {
        "name": user.name,
        "email": user.email,
        "roles": roles_text(user),
        "account": "Active" if user.is_active else "Deactivated",
        "status": status_text(user),
        "matriculation_id": user.matriculation_id,
        "legal_name": user.legal_name,
        "specialization": user.specialization,
        "notes": user.notes,
    }
