"""The real window on a store whose user signed out, or whose offline time is up: it says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.models.local import LocalSession
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.sessions import complete_sign_in, sign_out
from iamedic_desktop.ui.main_window import MainWindow
from tests.e2e.window_fixtures import (  # noqa: F401  (fixtures, used by name)
    isolated_qsettings_fixture,
    main_window_factory_fixture,
    no_operation_left_running_fixture,
)
from tests.integration.session_support import browser_sign_in, settings_for
from tests.support.idp import running_idp
from tests.support.keyring_file import FileKeyring

pytestmark = pytest.mark.gui

LOAD_TIMEOUT_MS = 20_000
SIGN_IN_REQUIRED = "Error: Sign-in required: run iamedic login"


@pytest.fixture
def signed_in(tmp_path: Path) -> Iterator[Settings]:
    """A store on which a user signed in (provider stopped afterwards), with a file keyring."""
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(tmp_path / "keyring.json"))
    try:
        with running_idp("ada.doctor@example.org", "Dr. Ada") as idp:
            settings = settings_for(idp)
            store = open_local_store(settings, check_sign_in=False)
            try:
                complete_sign_in(store.uow, settings, browser_sign_in(settings))
            finally:
                store.close()
        yield settings
    finally:
        keyring.set_keyring(previous)


def _notice(qtbot: QtBot, factory: Callable[[Settings], MainWindow], settings: Settings) -> str:
    window = factory(settings)
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS) as notified:
        window.show()
    assert window.store is None
    return str(notified.args[0])


def test_after_sign_out_the_window_asks_for_sign_in(
    qtbot: QtBot, main_window_factory: Callable[[Settings], MainWindow], signed_in: Settings
) -> None:
    store = open_local_store(signed_in, check_sign_in=False)
    try:
        sign_out(store.uow, signed_in)
    finally:
        store.close()
    assert _notice(qtbot, main_window_factory, signed_in).startswith(SIGN_IN_REQUIRED)


def test_past_the_offline_limit_the_window_asks_for_sign_in(
    qtbot: QtBot, main_window_factory: Callable[[Settings], MainWindow], signed_in: Settings
) -> None:
    store = open_local_store(signed_in, check_sign_in=False)
    try:
        with store.uow() as uow:
            long_ago = utcnow() - dt.timedelta(days=signed_in.offline_days + 1)
            uow.session.execute(
                update(LocalSession).values(refreshed_at=long_ago, token_expires_at=long_ago)
            )
            uow.commit()
    finally:
        store.close()
    # The provider is gone (its port closed): the refresh cannot help.
    assert _notice(qtbot, main_window_factory, signed_in).startswith(SIGN_IN_REQUIRED)
