"""Settings, Central database: the URL's parts, TLS, the password (keyring), when pulled media
files are fetched, Test connection (reachable, encrypted, server verified), and Enroll this
workstation with a one-time code (``services.central_access.enroll``, as ``iamedic central
enroll CODE``): its login becomes the User field and the settings file's, its password goes to
the keyring and is never shown. Both connect in operations, never on the UI thread."""

from __future__ import annotations

import functools

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from iamedic_desktop.core.settings import SSL_MODES, Settings
from iamedic_desktop.services.central_access import Enrollment, enroll
from iamedic_desktop.services.connection_check import ConnectionReport, check_connection
from iamedic_desktop.services.settings_form import (
    DEFAULT_PORT,
    OPTIONS,
    central_options,
    central_parts,
    compose_central_url,
)
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner, describe_failure
from iamedic_desktop.ui.settings_fields import SettingsFieldsTab

TLS_MODES = [("libpq default (prefer)", ""), *((mode, mode) for mode in SSL_MODES)]
FETCH_MODES = [
    ("When a media is opened", "on_demand"),
    ("Right after each sync (every pulled media)", "eager"),
]


class SettingsCentralTab(SettingsFieldsTab):
    """Host, port, database, user, TLS mode, CA file and other URL options (a client
    certificate); the password goes to the keyring."""

    def __init__(
        self, settings: Settings, runner: OperationRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._settings = settings
        self._keyring_service = settings.central_keyring_service
        parts = central_parts(settings.central_url)
        self.line("central_host", "Host:", parts["central_host"], placeholder="db.hospital.org")
        self.line("central_port", "Port:", parts["central_port"], placeholder=str(DEFAULT_PORT))
        self.line("central_database", "Database:", parts["central_database"])
        self.line("central_user", "User:", parts["central_user"])
        self.password = self.line(
            "central_password",
            "Password:",
            "",
            placeholder=(
                "unchanged (kept in the system keyring)"
                if settings.central_url
                else "kept in the system keyring"
            ),
            hidden=True,
        )
        self.choice("central_sslmode", "TLS mode:", TLS_MODES, parts["central_sslmode"])
        self.path_field(
            "central_sslrootcert", "CA file:", parts["central_sslrootcert"], folder=False
        )
        self.line(
            OPTIONS,
            "Other URL options:",
            central_options(settings.central_url),
            placeholder="sslcert=/etc/iamedic/client.pem&sslkey=/etc/iamedic/client.key",
        )
        self.choice("fetch_media", "Fetch media files:", FETCH_MODES, settings.fetch_media)
        self.add_note(
            "Leave every field empty to work in local mode. The password is kept in the "
            "system keyring, never in the settings file. Across a network, choose TLS mode "
            "verify-full and the CA file that signed the database server's certificate."
        )
        self.test_button = QPushButton("Test connection", self)
        self.test_button.setObjectName("testConnection")
        self.result = QLabel(self, wordWrap=True)
        self.result.setObjectName("connectionResult")
        self.form.addRow(self.test_button)
        self.form.addRow(self.result)
        self.test_button.clicked.connect(self.test_connection)
        self._add_enrollment()

    def _add_enrollment(self) -> None:
        # Not a setting: kept out of ``fields``, so Save never sees the code.
        self.code_edit = QLineEdit(self, clearButtonEnabled=True)
        self.code_edit.setObjectName("enrollmentCode")
        self.code_edit.setPlaceholderText("one-time code from an administrator")
        self.enroll_button = QPushButton("Enroll this workstation", self)
        self.enroll_button.setObjectName("enrollWorkstation")
        self.enroll_button.setAutoDefault(False)
        self.enroll_result = QLabel(self, wordWrap=True)
        self.enroll_result.setObjectName("enrollmentResult")
        row = QHBoxLayout()
        row.addWidget(self.code_edit, 1)
        row.addWidget(self.enroll_button)
        caption = QLabel("Enrollment code:", self)
        caption.setBuddy(self.code_edit)
        self.form.addRow(caption, row)
        self.form.addRow(self.enroll_result)
        self.enroll_button.clicked.connect(self.enroll)
        self.code_edit.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter in the code enrolls; left alone, the dialog would also take it for Save.
        if watched is self.code_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.enroll()
                return True
        return super().eventFilter(watched, event)

    def enroll(self) -> None:
        """Redeem the code over the URL in the fields; its login becomes this workstation's."""
        code = self.code_edit.text().strip()
        errors: dict[str, str] = {}
        url = compose_central_url(self.values(), errors)
        if self.show_errors(errors) is not None or url is None:
            self._tell(
                "Not enrolled: fill in the host, database and a user that may connect first.",
                problem=True,
            )
            return
        if not code:
            self._tell("Not enrolled: type the code an administrator gave you.", problem=True)
            return
        self.enroll_button.setEnabled(False)
        self._tell("Enrolling…")
        settings = self._settings.model_copy(update={"central_url": url})
        self._runner.run(
            functools.partial(enroll, settings, code),
            on_success=self._enrolled,
            on_failure=self._not_enrolled,
        )

    def _enrolled(self, done: Enrollment) -> None:
        if not shiboken6.isValid(self):
            return
        self.enroll_button.setEnabled(True)
        self.code_edit.clear()
        user = self.fields["central_user"]
        assert isinstance(user, QLineEdit)
        user.setText(done.login)
        self.password.clear()
        text = (
            f"This workstation is enrolled: it now connects as {done.login}, its password kept "
            "in the system keyring."
        )
        if done.overridden_by_environment:
            text += f" IAMEDIC_CENTRAL_URL is set and wins: set its user to {done.login}."
        self._tell(text)

    def _not_enrolled(self, error: BaseException) -> None:
        if shiboken6.isValid(self):
            self.enroll_button.setEnabled(True)
            self._tell(f"Not enrolled: {describe_failure(error)}", problem=True)

    def _tell(self, text: str, *, problem: bool = False) -> None:
        self.enroll_result.setText(text)
        self.enroll_result.setStyleSheet(f"color: {theme.ERROR};" if problem else "")

    def test_connection(self) -> None:
        """Check the fields, then connect in an operation and show what was found."""
        errors: dict[str, str] = {}
        url = compose_central_url(self.values(), errors)
        first = self.show_errors(errors)
        if first is not None:
            self.focus_field(first)
            self._say("Not tested: correct the marked field first.", problem=True)
            return
        if url is None:
            self._say("No central database: fill in the host, database and user.", problem=True)
            return
        self.test_button.setEnabled(False)
        self._say("Connecting…")
        self._runner.run(
            functools.partial(
                check_connection,
                url,
                self.password.text() or None,
                keyring_service=self._keyring_service,
            ),
            on_success=self._tested,
            on_failure=self._test_failed,
        )

    def _tested(self, report: ConnectionReport) -> None:
        if shiboken6.isValid(self):  # the dialog may have closed while connecting
            self.test_button.setEnabled(True)
            self._say(report.summary(), problem=not report.reachable)

    def _test_failed(self, error: BaseException) -> None:
        if shiboken6.isValid(self):
            self.test_button.setEnabled(True)
            self._say(f"Not tested: {describe_failure(error)}", problem=True)

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {theme.ERROR};" if problem else "")
