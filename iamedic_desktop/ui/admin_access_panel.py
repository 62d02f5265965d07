"""The Administration tab's row for the selected user's workstation logins.

Shows whether the user has logins on the central database (enrolled, waiting for enrollment,
revoked), and gives or revokes access with the same services as ``iamedic central
grant-access`` and ``revoke-access`` (``services/central_access.py``). A new code is shown once
in ``AccessCodeDialog``; revoking asks first. Logins exist on the central database only: with
this workstation as the target the buttons say so instead of acting.

Threading: the work runs through the tab's ``run`` (an operation at the admin's target); the
functions below run on the worker and touch no widget.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from iamedic_desktop.schemas.users import AdminUserDTO
from iamedic_desktop.services.admin_access import grant, read_state, revoke
from iamedic_desktop.services.admin_target import AdminTarget
from iamedic_desktop.services.central_access import AccessGrant, AccessState
from iamedic_desktop.ui.admin_access_code_dialog import AccessCodeDialog
from iamedic_desktop.ui.operations import describe_failure

Run = Callable[[Callable[[AdminTarget], Any], Callable[[Any], None],
                Callable[[BaseException], None]], None]  # fmt: skip


class AdminAccessPanel(QWidget):
    """``Workstation logins: …`` with Give workstation access and Revoke workstation access."""

    message = Signal(str, bool)  # what happened, as the admin reads it; whether it failed

    def __init__(self, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run_at_target = run
        self._user: AdminUserDTO | None = None
        self._busy = False
        self.code_dialog: AccessCodeDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.state_label = QLabel("", self, wordWrap=True)
        self.grant_button = QPushButton("Give workstation access", self)
        self.revoke_button = QPushButton("Revoke workstation access…", self)
        for widget, name in ((self.state_label, "accessState"),
                             (self.grant_button, "grantAccess"),
                             (self.revoke_button, "revokeAccess")):  # fmt: skip
            widget.setObjectName(name)
        for button in (self.grant_button, self.revoke_button):
            button.setAutoDefault(False)
        self.grant_button.clicked.connect(self.give_access)
        self.revoke_button.clicked.connect(self.ask_revoke)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state_label, 1)
        layout.addWidget(self.grant_button)
        layout.addWidget(self.revoke_button)
        self.show_user(None)

    def show_user(self, user: AdminUserDTO | None) -> None:
        """Show ``user``'s logins (read in an operation); None: nobody selected."""
        self._user = user
        self._enable()
        if user is None:
            self.state_label.setText("Workstation logins: —")
            return
        self.state_label.setText("Workstation logins: …")
        email = user.email
        self._run(
            functools.partial(read_state, email),
            lambda result: self._state_read(email, result[1]),
            lambda error: self._state_read(email, error),
        )

    def _run(
        self,
        work: Callable[[AdminTarget], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        # The dialog may close before the answer comes: a closed panel drops it.
        def alive(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda value: callback(value) if shiboken6.isValid(self) else None

        self._run_at_target(work, alive(on_success), alive(on_failure))

    def _state_read(self, email: str, state: AccessState | BaseException | None) -> None:
        if self._user is None or self._user.email != email:
            return  # another user was selected meanwhile
        if isinstance(state, BaseException):
            text = f"unknown ({describe_failure(state)})"
        elif state is None:
            text = "kept on the central database (not in use here)"
        else:
            text = state.summary()
        self.state_label.setText(f"Workstation logins: {text}")

    def give_access(self) -> None:
        """Make a login and a one-time code for the selected user; show the code once."""
        user = self._user
        if user is None:
            return
        self._set_busy(True)
        self._run(
            functools.partial(grant, user.email),
            lambda result: self._granted(user, *result[1]),
            self._failed,
        )

    def _granted(self, user: AdminUserDTO, made: AccessGrant, state: AccessState) -> None:
        self._set_busy(False)
        self._state_read(user.email, state)
        self.message.emit(f"Workstation access granted to {user.email}: give them the code.", False)
        dialog = AccessCodeDialog(user.email, made, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: setattr(self, "code_dialog", None))
        self.code_dialog = dialog
        dialog.open()

    def ask_revoke(self) -> None:
        """Ask, then disable every login of the selected user."""
        user = self._user
        if user is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Revoke workstation access",
            f"Disable every workstation login of {user.email}? Their workstations stop "
            "syncing at once; their local work stays there until access is given again.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        confirm = box.addButton("Revoke access", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _code: setattr(self, "confirm_box", None))
        box.buttonClicked.connect(
            lambda clicked: self._revoke(user) if clicked is confirm else None
        )
        self.confirm_box = box
        box.open()

    def _revoke(self, user: AdminUserDTO) -> None:
        self._set_busy(True)
        self._run(
            functools.partial(revoke, user.email),
            lambda result: self._revoked(user, *result[1]),
            self._failed,
        )

    def _revoked(self, user: AdminUserDTO, count: int, state: AccessState) -> None:
        self._set_busy(False)
        self._state_read(user.email, state)
        if count:
            message = f"Workstation access of {user.email} revoked: {count} login(s) disabled."
        else:
            message = f"{user.email} had no enabled workstation login: nothing was revoked."
        self.message.emit(message, False)

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.message.emit(describe_failure(error), True)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._enable()

    def _enable(self) -> None:
        on = self._user is not None and not self._busy
        self.grant_button.setEnabled(on)
        self.revoke_button.setEnabled(on)
