"""Doctor registration in the window: the form, its refusals field by field, then the status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import DoctorProfile
from iamedic_desktop.services.doctor_profiles import register_doctor_profile
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.sessions import complete_sign_in
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.registration_panel import RegistrationPanel
from tests.gui.sign_in_support import (  # noqa: F401  (fixtures, used by name)
    ADA,
    LOAD_TIMEOUT_MS,
    WindowFactory,
    approved_doctor,
    file_keyring_fixture,
    idp_fixture,
)
from tests.integration.session_support import browser_sign_in, settings_for
from tests.support.idp import IdpHandle

pytestmark = pytest.mark.gui

NOTE = "The matriculation number is not in the register of Lombardy: please check it."


@pytest.fixture(name="signed_in")
def signed_in_fixture(idp: IdpHandle) -> Iterator[Settings]:
    """A store on which Dr. Ada signed in, with no doctor registration yet."""
    settings = settings_for(idp)
    store = open_local_store(settings, check_sign_in=False)
    try:
        complete_sign_in(store.uow, settings, browser_sign_in(settings))
    finally:
        store.close()
    yield settings


def _window(qtbot: QtBot, factory: WindowFactory, settings: Settings) -> MainWindow:
    window = factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    return window


def _focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def _type(qtbot: QtBot, text: str, then: Qt.Key = Qt.Key.Key_Tab) -> None:
    qtbot.keyClicks(_focused(), text)
    qtbot.keyClick(_focused(), then)


def _submit(qtbot: QtBot, window: MainWindow, panel: RegistrationPanel) -> None:
    # Enter in a field submits; the answer comes back from the database thread.
    with qtbot.waitSignal(window.database.activity_changed, timeout=LOAD_TIMEOUT_MS):
        qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.database.in_flight == 0, timeout=LOAD_TIMEOUT_MS)


def test_a_signed_in_user_without_a_registration_registers_field_by_field(
    qtbot: QtBot, main_window_factory: WindowFactory, signed_in: Settings
) -> None:
    window = _window(qtbot, main_window_factory, signed_in)
    panel = window.account.registration
    assert panel.isVisible() and panel.showing_form
    assert panel.geometry() == window.review.rect()  # over the review area
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.edits["matriculation_id"])

    _type(qtbot, "MAT-2291")
    _type(qtbot, "   ")  # a legal name of blanks only
    qtbot.keyClicks(_focused(), "Obstetrics and gynaecology")
    _submit(qtbot, window, panel)
    assert panel.field_error("legal_name") == "The legal name cannot be empty."
    assert panel.field_error("matriculation_id") == ""
    assert panel.showing_form
    assert QApplication.focusWidget() is panel.edits["legal_name"]  # where to type again

    qtbot.keyClick(_focused(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(_focused(), "Ada Lovelace")
    _submit(qtbot, window, panel)
    assert not panel.showing_form
    assert panel.status_label.text().startswith("Your doctor registration is waiting")
    assert "Legal name: Ada Lovelace" in panel.details_label.text()
    assert panel.notes_label.text() == "Administrator's notes: none yet"
    assert panel.field_error("legal_name") == ""


def test_a_matriculation_id_held_by_another_doctor_is_refused_beside_that_field(
    qtbot: QtBot, main_window_factory: WindowFactory, signed_in: Settings
) -> None:
    approved_doctor(signed_in, "bob.doctor@example.org", "Dr. Bob", "MAT-0042")
    window = _window(qtbot, main_window_factory, signed_in)
    panel = window.account.registration
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.edits["matriculation_id"])
    _type(qtbot, "MAT-0042")
    _type(qtbot, "Ada Lovelace")
    qtbot.keyClicks(_focused(), "Obstetrics")
    _submit(qtbot, window, panel)
    assert "already registered to another doctor" in panel.field_error("matriculation_id")
    assert panel.field_error("legal_name") == panel.field_error("specialization") == ""
    assert panel.showing_form


def _register(settings: Settings, status: str, notes: str | None) -> None:
    store = open_local_store(settings)
    try:
        register_doctor_profile(
            store.uow,
            store.actor,
            matriculation_id="MAT-2291",
            legal_name="Ada Lovelace",
            specialization="Obstetrics",
        )
        with store.uow() as uow:  # the administrator's decision and notes, as sync brings them
            uow.session.execute(update(DoctorProfile).values(status=status, notes=notes))
            uow.commit()
    finally:
        store.close()


def test_a_pending_registration_shows_its_status_and_the_administrators_notes(
    qtbot: QtBot, main_window_factory: WindowFactory, signed_in: Settings
) -> None:
    _register(signed_in, "pending", NOTE)
    window = _window(qtbot, main_window_factory, signed_in)
    panel = window.account.registration
    qtbot.waitUntil(panel.isVisible)
    assert not panel.showing_form
    assert panel.status_label.text() == (
        "Your doctor registration is waiting for an administrator's approval."
    )
    assert panel.notes_label.text() == f"Administrator's notes: {NOTE}"
    assert panel.edit_button.isVisible()

    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)  # edit while pending
    assert panel.showing_form and panel.edits["legal_name"].text() == "Ada Lovelace"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.edits["matriculation_id"])
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
    qtbot.keyClick(_focused(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(_focused(), "Ada King")
    _submit(qtbot, window, panel)
    assert "Legal name: Ada King" in panel.details_label.text()
    assert panel.notes_label.text() == "Administrator's notes: none yet"  # edited: cleared


def test_a_denied_registration_shows_the_denial_and_its_notes_and_no_edit(
    qtbot: QtBot, main_window_factory: WindowFactory, signed_in: Settings
) -> None:
    _register(signed_in, "denied", NOTE)
    window = _window(qtbot, main_window_factory, signed_in)
    panel = window.account.registration
    qtbot.waitUntil(panel.isVisible)
    assert panel.status_label.text().startswith("Your doctor registration was denied.")
    assert panel.notes_label.text() == f"Administrator's notes: {NOTE}"
    assert not panel.edit_button.isVisible()


def test_an_approved_doctor_sees_the_review_area_not_the_form(
    qtbot: QtBot, main_window_factory: WindowFactory, idp: IdpHandle
) -> None:
    settings = settings_for(idp)
    approved_doctor(settings, *ADA, "MAT-2291")
    store = open_local_store(settings, check_sign_in=False)
    try:
        complete_sign_in(store.uow, settings, browser_sign_in(settings))
    finally:
        store.close()
    window = _window(qtbot, main_window_factory, settings)
    assert not window.account.registration.isVisible()
    assert window.browser.new_action.isEnabled()  # doctor work is open
