"""Sign-in and sign-out from the window, and the account pages over the review area.

Sign in: the browser flow of ``auth/oauth.py`` runs on this controller's own thread (it waits
minutes for the browser, so it must not hold the database thread), under a small modal with
Cancel; then, on the database thread, the same steps as ``iamedic login``
(``services/sign_in.py``); then, once, the local-mode studies question; then the window opens
its store again as the signed-in user. Sign out clears the session and its secrets, and the
window opens its store again, which now asks for a sign-in.

Threading: created and used on the UI thread; ``shutdown`` before the window's runners stop.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from iamedic_desktop.core.errors import AuthenticationError
from iamedic_desktop.services.sign_in import (
    Account,
    SignInOutcome,
    account_of,
    finish_sign_in,
    local_studies_phrase,
    settle_local_studies,
    sign_out_of_store,
    submit_registration,
)
from iamedic_desktop.ui.operations import describe_failure
from iamedic_desktop.ui.registration_panel import RegistrationPanel
from iamedic_desktop.ui.sign_in_dialog import SignInWaitingDialog
from iamedic_desktop.ui.sign_in_panel import PageCover, SignInPanel
from iamedic_desktop.ui.status_bar_widget import ActivityRunner, StatusBarWidget

if TYPE_CHECKING:
    from iamedic_desktop.auth.oauth import SignedIn
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.doctor_profiles import DoctorProfileDTO
    from iamedic_desktop.services.local_store import LocalStore

CANCELLED = "The sign-in was cancelled."
QUESTION_TITLE = "Studies made in local mode"


def _until(account: Account) -> str:
    until = account.info.valid_until
    return "" if until is None else f"{until.astimezone():%d %b %Y %H:%M}"


class SignInController(QObject):
    """Signs in and out for the window and shows the account pages (sign-in, registration)."""

    reopen_requested = Signal()  # signed in or out: open the store again as whoever acts now
    account_loaded = Signal(object)  # Account of the store just opened
    message = Signal(str)
    failed = Signal(str, object)  # the window's one error path

    def __init__(
        self,
        window: QWidget,
        host: QWidget,
        database: ActivityRunner,
        status: StatusBarWidget,
        settings: Settings,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._database = database
        self._status = status
        self._settings = settings
        self._store: LocalStore | None = None
        self._cancel = threading.Event()
        self.account: Account | None = None
        self.runner = ActivityRunner("Sign-in", self)
        status.watch(self.runner)
        # Tests and trials do the browser's part themselves.
        self.open_browser = True
        self.on_url: Callable[[str], None] | None = None
        self.waiting_dialog: SignInWaitingDialog | None = None
        self.question: QMessageBox | None = None
        self.sign_in_action = QAction("Sign in…", window, objectName="action_sign_in")
        self.sign_out_action = QAction("Sign out", window, objectName="action_sign_out")
        self.sign_in_action.triggered.connect(lambda _checked=False: self.sign_in())
        self.sign_out_action.triggered.connect(lambda _checked=False: self.sign_out())
        self.sign_out_action.setEnabled(False)
        self.sign_in_panel = SignInPanel()
        self.sign_in_panel.sign_in_requested.connect(self.sign_in)
        self._sign_in_cover = PageCover(host, self.sign_in_panel)
        self.registration = RegistrationPanel()
        self.registration.submitted.connect(self._submit_registration)
        self._registration_cover = PageCover(host, self.registration)

    # --- the store the window opened ----------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings sign-in uses (the window's, as last saved)."""
        return self._settings

    def set_settings(self, settings: Settings) -> None:
        """Settings saved in the dialog: the next sign-in uses them."""
        self._settings = settings

    def store_opened(self, store: LocalStore) -> None:
        """The window's store is open: read who acts and whether they are a doctor yet."""
        self._store = store
        self._sign_in_cover.hide()
        self._database.run(
            functools.partial(account_of, store),
            on_success=self._account_read,
            on_failure=self.store_refused,
        )

    def store_closed(self) -> None:
        """The window is opening its store again: nothing of the last user stays on show."""
        self._store = None
        self.account = None
        self._registration_cover.hide()

    def store_refused(self, error: BaseException) -> None:
        """The store would not open for nobody signed in: the "Sign-in required" page."""
        if not isinstance(error, AuthenticationError):
            return
        self._store = None
        self.sign_in_panel.set_reason(describe_failure(error))
        self._sign_in_cover.show()
        self.sign_in_panel.button.setFocus()
        self._status.set_connection_state("signed_out", "")
        self.sign_in_action.setEnabled(True)
        self.sign_out_action.setEnabled(False)

    def _account_read(self, account: Account) -> None:
        if self._store is None:
            return  # the store closed meanwhile
        self.account = account
        info = account.info
        signed_in = info.mode == "signed in"
        self.sign_out_action.setEnabled(signed_in)
        if not signed_in:
            self._status.set_connection_state("local", info.name)
        else:
            # Offline (the provider did not answer): how long the last confirmation holds.
            offline = f" · offline until {_until(account)}" if info.online == "offline" else ""
            self._status.set_connection_state("signed_in", f"{info.name}{offline}")
            self._status.connection_indicator.setToolTip(
                f"Signed in as {info.email}; works offline until {_until(account)}"
            )
        profile = account.profile
        if not account.is_doctor:
            self.registration.show_profile(profile)
            if account.problem:
                self.registration.show_refusal(account.problem)
            self._registration_cover.show()
            self.registration.focus_first()
        else:
            self._registration_cover.hide()
        self.account_loaded.emit(account)

    # --- sign-in ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a sign-in is under way."""
        return self.waiting_dialog is not None or self.question is not None

    def sign_in(self) -> None:
        """Start the browser sign-in (one at a time)."""
        if self.busy:
            return
        from iamedic_desktop.auth.oauth import sign_in

        self._cancel.clear()
        dialog = SignInWaitingDialog(self._settings.oauth_issuer, self._window)
        dialog.rejected.connect(self._cancel.set)
        self.waiting_dialog = dialog
        dialog.open()
        self.runner.run(
            functools.partial(
                sign_in,
                self._settings,
                open_browser=self.open_browser,
                on_url=self.on_url,
                cancelled=self._cancel.is_set,
            ),
            on_success=self._browser_done,
            on_failure=self._sign_in_failed,
        )

    def cancel(self) -> None:
        """Stop waiting for the browser (the dialog's Cancel)."""
        if self.waiting_dialog is not None:
            self.waiting_dialog.reject()

    def _browser_done(self, signed_in: SignedIn) -> None:
        if self.waiting_dialog is not None:
            self.waiting_dialog.set_finishing()
        self._database.run(
            functools.partial(finish_sign_in, self._settings, signed_in),
            on_success=self._sign_in_finished,
            on_failure=self._sign_in_failed,
        )

    def _close_waiting(self) -> None:
        dialog, self.waiting_dialog = self.waiting_dialog, None
        if dialog is not None:
            dialog.done(0)
            dialog.deleteLater()

    def _sign_in_failed(self, error: BaseException) -> None:
        self._close_waiting()
        text = describe_failure(error)
        if text == CANCELLED:
            self.message.emit("Sign-in cancelled")
        else:
            self.failed.emit(text, error)

    def _sign_in_finished(self, outcome: SignInOutcome) -> None:
        self._close_waiting()
        actor = outcome.state.actor
        self.message.emit(f"Signed in as {actor.name} ({actor.email})")
        if outcome.ask_about_local_studies:
            self._ask_about_local_studies(outcome)
        else:
            self.reopen_requested.emit()

    def _ask_about_local_studies(self, outcome: SignInOutcome) -> None:
        count = outcome.local_studies
        box = QMessageBox(
            QMessageBox.Icon.Question,
            QUESTION_TITLE,
            f"{local_studies_phrase(count)} on this workstation: make "
            f"{'it' if count == 1 else 'them'} yours?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self._window,
        )
        box.setObjectName("localStudiesQuestion")
        box.setInformativeText(
            "Yes: they move to your account, with everything in them. No: they stay as they "
            "are; you are not asked again (iamedic login --take-local-studies takes them later)."
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(functools.partial(self._answered, outcome))
        self.question = box
        box.open()

    def _answered(self, outcome: SignInOutcome, result: int) -> None:
        box, self.question = self.question, None
        if box is not None:
            box.deleteLater()
        take = result == QMessageBox.StandardButton.Yes.value
        self._database.run(
            functools.partial(settle_local_studies, self._settings, outcome.state.actor, take=take),
            on_success=functools.partial(self._settled, take),
            on_failure=lambda _error: self.reopen_requested.emit(),
        )

    def _settled(self, take: bool, moved: int) -> None:
        if take:
            self.message.emit(f"{moved} stud{'y is' if moved == 1 else 'ies are'} now yours")
        self.reopen_requested.emit()

    # --- sign-out -----------------------------------------------------------------------------

    def sign_out(self) -> None:
        """End the session (its secrets leave the keyring); the store stays."""
        self.sign_out_action.setEnabled(False)
        self._database.run(
            functools.partial(sign_out_of_store, self._settings), on_success=self._signed_out
        )

    def _signed_out(self, email: str | None) -> None:
        done = "Signed out. The studies stay in the store."
        self.message.emit(done if email else "Nobody was signed in.")
        self.reopen_requested.emit()

    # --- registration -------------------------------------------------------------------------

    def _submit_registration(self, values: dict[str, str], update: bool) -> None:
        store = self._store
        if store is None:
            self.registration.show_refusal("The store is not open yet: try again in a moment.")
            return
        self._database.run(
            functools.partial(submit_registration, store, update=update, **values),
            on_success=self._registered,
            on_failure=lambda error: self.registration.show_refusal(describe_failure(error)),
        )

    def _registered(self, profile: DoctorProfileDTO) -> None:
        self.registration.show_profile(profile)
        self.message.emit("Doctor registration sent: an administrator will review it")

    def shutdown(self) -> None:
        """Stop a sign-in that waits for the browser, and this controller's thread."""
        self._cancel.set()
        self.runner.shutdown()
        self._close_waiting()
