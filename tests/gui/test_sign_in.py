"""Signing in and out from the window, through the real flow against the stand-in provider."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from iamedic_desktop.models.base import utcnow
from iamedic_desktop.models.local import LocalSession
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.sessions import complete_sign_in
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.ui.main_window import MainWindow
from tests.gui.sign_in_support import (  # noqa: F401  (fixtures, used by name)
    ADA,
    LOAD_TIMEOUT_MS,
    BrowserStandIn,
    WindowFactory,
    approved_doctor,
    browser_fixture,
    file_keyring_fixture,
    idp_fixture,
    menu_action,
    window_on,
)
from tests.integration.session_support import browser_sign_in, settings_for
from tests.support.idp import IdpHandle, running_idp
from tests.support.keyring_file import FileKeyring

pytestmark = pytest.mark.gui

QUESTION = "2 studies were made in local mode on this workstation: make them yours?"


def _local_studies(idp: IdpHandle, *aliases: str) -> None:
    # Dr. Ada and Dr. Bob are approved doctors (as central would say); local mode made studies.
    settings = settings_for(idp)
    approved_doctor(settings, ADA[0], ADA[1], "MAT-ADA")
    approved_doctor(settings, "bob.doctor@example.org", "Dr. Bob", "MAT-BOB")
    store = open_local_store(settings)
    try:
        for alias in aliases:
            create_study(store.uow, store.actor, alias)
    finally:
        store.close()


def _question(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    window.account.sign_in_action.trigger()
    qtbot.waitUntil(lambda: window.account.question is not None, timeout=LOAD_TIMEOUT_MS)
    box = window.account.question
    assert box is not None
    return box


def _answer(qtbot: QtBot, window: MainWindow, box: QMessageBox, button: object) -> None:
    with qtbot.waitSignal(window.account.account_loaded, timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def _sign_in(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.account.account_loaded, timeout=LOAD_TIMEOUT_MS):
        window.account.sign_in_action.trigger()


def _studies(qtbot: QtBot, window: MainWindow, count: int) -> None:
    qtbot.waitUntil(lambda: window.browser.model.total == count, timeout=LOAD_TIMEOUT_MS)


def test_signing_in_from_the_menu_makes_the_local_studies_the_doctors_when_asked_yes(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    idp: IdpHandle,
    browser: BrowserStandIn,
    file_keyring: FileKeyring,
) -> None:
    _local_studies(idp, "NT check 12w", "Follow-up 20w")
    window = window_on(qtbot, main_window_factory, idp, browser)
    assert window.mode_indicator.text() == "Local mode · Local clinician"
    _studies(qtbot, window, 2)

    assert menu_action(window, "Sign in…") is window.account.sign_in_action
    box = _question(qtbot, window)
    assert box.text() == QUESTION
    assert browser.urls and browser.urls[0].startswith(f"{idp.issuer_url}/")
    _answer(qtbot, window, box, QMessageBox.StandardButton.Yes)

    assert window.store is not None and window.store.actor.email == ADA[0]
    assert window.mode_indicator.text() == f"Signed in · {ADA[1]}"
    _studies(qtbot, window, 2)  # the same two studies, now the doctor's
    assert window.account.sign_out_action.isEnabled()
    assert file_keyring.secrets() and set(file_keyring.secrets()) <= idp.refresh_tokens


def test_no_leaves_the_local_studies_and_the_question_is_asked_once(
    qtbot: QtBot, main_window_factory: WindowFactory, idp: IdpHandle, browser: BrowserStandIn
) -> None:
    _local_studies(idp, "NT check 12w", "Follow-up 20w")
    window = window_on(qtbot, main_window_factory, idp, browser)
    box = _question(qtbot, window)
    _answer(qtbot, window, box, QMessageBox.StandardButton.No)
    _studies(qtbot, window, 0)  # not the doctor's

    with qtbot.waitSignal(window.account.account_loaded, timeout=LOAD_TIMEOUT_MS):
        window.account.sign_out_action.trigger()  # reopened: sign-in required
        qtbot.waitUntil(window.account.sign_in_panel.isVisible, timeout=LOAD_TIMEOUT_MS)
        window.account.sign_in_action.trigger()
    assert window.account.question is None  # asked once per store
    _studies(qtbot, window, 0)


def test_sign_out_clears_the_session_and_a_second_person_sees_only_their_studies(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    idp: IdpHandle,
    browser: BrowserStandIn,
    file_keyring: FileKeyring,
) -> None:
    _local_studies(idp, "NT check 12w", "Follow-up 20w")
    window = window_on(qtbot, main_window_factory, idp, browser)
    _answer(qtbot, window, _question(qtbot, window), QMessageBox.StandardButton.Yes)
    _studies(qtbot, window, 2)

    menu_action(window, "Sign out").trigger()  # type: ignore[attr-defined]
    panel = window.account.sign_in_panel
    qtbot.waitUntil(panel.isVisible, timeout=LOAD_TIMEOUT_MS)
    assert window.store is None
    assert window.browser.model.total == 0  # nothing of the last user stays listed
    assert window.mode_indicator.text() == "Signed out"
    assert "Sign-in required" in panel.reason.text() and "iamedic login" not in panel.reason.text()
    assert file_keyring.secrets() == []  # the refresh token left the keyring
    assert not window.account.sign_out_action.isEnabled()

    idp.email, idp.name = "bob.doctor@example.org", "Dr. Bob"
    with qtbot.waitSignal(window.account.account_loaded, timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible()
    assert window.store is not None and window.store.actor.email == "bob.doctor@example.org"
    assert window.mode_indicator.text() == "Signed in · Dr. Bob"
    _studies(qtbot, window, 0)  # Dr. Ada's studies are not Dr. Bob's


def test_escape_cancels_the_wait_for_the_browser_and_nothing_changes(
    qtbot: QtBot, main_window_factory: WindowFactory, idp: IdpHandle
) -> None:
    window = window_on(qtbot, main_window_factory, idp, None)  # nobody answers in a browser
    window.account.sign_in_action.trigger()
    dialog = window.account.waiting_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.message.text() == "Waiting for sign-in in your browser…"
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS) as notified:
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert notified.args == ["Sign-in cancelled"]
    qtbot.waitUntil(lambda: window.account.runner.is_idle(), timeout=LOAD_TIMEOUT_MS)
    assert window.account.waiting_dialog is None
    assert window.store is not None and window.store.session is not None
    assert not window.store.session.signed_in
    assert window.mode_indicator.text() == "Local mode · Local clinician"


def test_a_refused_answer_is_said_clearly_and_opens_no_session(
    qtbot: QtBot, main_window_factory: WindowFactory, idp: IdpHandle, browser: BrowserStandIn
) -> None:
    window = window_on(qtbot, main_window_factory, idp, browser)
    idp.faults.tamper_state = True
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS) as notified:
        window.account.sign_in_action.trigger()
    assert "state mismatch" in notified.args[0]
    assert notified.args[0].startswith("Error: The sign-in was refused")
    assert window.account.waiting_dialog is None
    assert window.mode_indicator.text() == "Local mode · Local clinician"
    assert not window.account.sign_out_action.isEnabled()


def test_a_window_that_needs_a_sign_in_offers_the_button_and_signs_in(
    qtbot: QtBot, main_window_factory: WindowFactory, idp: IdpHandle, browser: BrowserStandIn
) -> None:
    settings = settings_for(idp)
    store = open_local_store(settings, check_sign_in=False)
    try:
        complete_sign_in(store.uow, settings, browser_sign_in(settings))
        with store.uow() as uow:
            uow.session.execute(update(LocalSession).values(is_current=False))  # signed out
            uow.commit()
    finally:
        store.close()
    window = window_on(qtbot, main_window_factory, idp, browser)
    panel = window.account.sign_in_panel
    assert window.store is None and panel.isVisible()
    assert panel.button.text() == "Sign in…"
    with qtbot.waitSignal(window.account.account_loaded, timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible()
    assert window.store is not None and window.store.actor.email == ADA[0]


def test_offline_the_status_bar_says_until_when_the_session_holds(
    qtbot: QtBot, main_window_factory: WindowFactory, file_keyring: FileKeyring
) -> None:
    with running_idp(*ADA) as idp:
        settings = settings_for(idp)
        store = open_local_store(settings, check_sign_in=False)
        try:
            complete_sign_in(store.uow, settings, browser_sign_in(settings))
        finally:
            store.close()
    # The provider is gone (its port closed). The ID token expired two days after the last
    # online sign-in: a refresh is due, fails offline, and the session holds until its limit.
    refreshed = utcnow() - dt.timedelta(days=2)
    store = open_local_store(settings, check_sign_in=False)
    try:
        with store.uow() as uow:
            uow.session.execute(
                update(LocalSession).values(refreshed_at=refreshed, token_expires_at=refreshed)
            )
            uow.commit()
    finally:
        store.close()
    window = main_window_factory(settings)
    with qtbot.waitSignal(window.account.account_loaded, timeout=LOAD_TIMEOUT_MS):
        window.show()
    until = (refreshed + dt.timedelta(days=settings.offline_days)).astimezone()
    assert window.mode_indicator.text() == (
        f"Signed in · {ADA[1]} · offline until {until:%d %b %Y %H:%M}"
    )
