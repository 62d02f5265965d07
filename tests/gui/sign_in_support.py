"""Shared by the window's sign-in tests: a file keyring, the stand-in provider, a "browser"."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui.main_window import MainWindow
from tests.integration.session_support import settings_for
from tests.support.idp import IdpHandle, running_idp
from tests.support.keyring_file import FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (re-exported)

LOAD_TIMEOUT_MS = 20_000
ADA = ("ada.doctor@example.org", "Dr. Ada")
WindowFactory = Callable[[Settings], MainWindow]


class BrowserStandIn:
    """The browser's part of the sign-in: follows the authorization URL on its own thread."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        thread = threading.Thread(target=_follow, args=(url,))
        self._threads.append(thread)
        thread.start()

    def join(self) -> None:
        """Wait for every visit to end (each times out by itself)."""
        for thread in self._threads:
            thread.join(timeout=15)


def _follow(url: str) -> None:
    # The provider approves at once and redirects to the window's loopback receiver.
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            answer.read()
    except OSError:
        pass  # a refused sign-in may answer with an error page: the window says why


@pytest.fixture(name="idp")
def idp_fixture(file_keyring: FileKeyring) -> Iterator[IdpHandle]:
    """The stand-in provider, approving every request as Dr. Ada."""
    with running_idp(*ADA) as handle:
        yield handle


@pytest.fixture(name="browser")
def browser_fixture() -> Iterator[BrowserStandIn]:
    """Follows the sign-in address as a browser would."""
    stand_in = BrowserStandIn()
    yield stand_in
    stand_in.join()


def window_on(
    qtbot: QtBot, factory: WindowFactory, idp: IdpHandle, browser: BrowserStandIn | None
) -> MainWindow:
    """A shown window on the test's store, signing in through ``idp`` with ``browser``."""
    window = factory(settings_for(idp))
    window.account.open_browser = False
    window.account.on_url = browser
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS):
        window.show()  # "Local store ready", or why it did not open
    return window


def menu_action(window: MainWindow, text: str) -> object:
    """The action of the menu bar (any menu, any depth) whose text is ``text``."""
    pending = list(window.menuBar().actions())
    while pending:
        action = pending.pop()
        if action.text() == text:
            return action
        if action.menu() is not None:
            pending.extend(action.menu().actions())
    raise AssertionError(f"no menu action '{text}'")


def approved_doctor(settings: Settings, email: str, name: str, matriculation_id: str) -> None:
    """The user as an approved doctor in the store, as the central database would send them."""
    import uuid

    from iamedic_desktop.models import DoctorProfile, DoctorStatus, Role, User, UserRole
    from iamedic_desktop.services.local_store import open_local_store

    store = open_local_store(settings, check_sign_in=False)
    try:
        with store.uow() as uow:
            user = User(id=uuid.uuid4(), email=email, name=name, google_id=f"g-{email}")
            uow.session.add(user)
            uow.session.flush()
            uow.session.add(UserRole(id=uuid.uuid4(), user_id=user.id, role=Role.DOCTOR.value))
            uow.session.add(
                DoctorProfile(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    matriculation_id=matriculation_id,
                    legal_name=name,
                    specialization="Obstetrics",
                    status=DoctorStatus.APPROVED.value,
                )
            )
            uow.commit()
    finally:
        store.close()
