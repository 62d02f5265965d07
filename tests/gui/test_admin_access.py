"""Workstation access from the window: an admin gives access in the Administration tab, the
code enrolls another workstation through Settings, a second use is refused, revoke disables the
login. Real widgets, a real PostgreSQL whose tables a web-like login owns, a file keyring."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from iamedic_desktop.core.settings import get_settings, reset_settings_cache
from iamedic_desktop.core.settings_file import save_settings
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.ui.administration_tab import AdministrationTab
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.settings_dialog import SettingsDialog
from tests.factories import actor_for, make_user, seeding
from tests.support.central_logins import Central, web_owned_central
from tests.support.keyring_file import FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (a fixture)
from tests.support.sync_world import add_doctor

pytestmark = [pytest.mark.postgres, pytest.mark.gui]

ADMIN, DOCTOR = "ada@example.org", "doc@example.org"
SERVICE = "iamedic-central-db"


@pytest.fixture
def central(pg_server: str) -> Iterator[Central]:
    with web_owned_central(pg_server) as made:
        add_doctor(made.engine, ADMIN, admin=True)
        add_doctor(made.engine, DOCTOR)
        yield made


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner()
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


@pytest.fixture
def admin_store(central: Central) -> Iterator[LocalStore]:
    """The admin's workstation: the central URL with the web's login, Ada signed in."""
    save_settings({"central_url": central.url.render_as_string(hide_password=False)})
    reset_settings_cache()
    store = open_local_store(get_settings(), check_sign_in=False)
    with seeding(store.uow) as session:
        ada = actor_for(make_user(session, email=ADMIN, name="Ada"))
    yield dataclasses.replace(store, actor=ada)
    store.close()


def _tab(qtbot: QtBot, runner: OperationRunner, store: LocalStore) -> AdministrationTab:
    tab = AdministrationTab(runner, get_settings(), store=store)
    qtbot.addWidget(tab)
    tab.resize(1000, 640)
    tab.show()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=10_000)
    return tab


def _pick(qtbot: QtBot, tab: AdministrationTab, email: str) -> None:
    row = next(r for r in range(tab.model.rowCount()) if tab.model.user(r).email == email)  # type: ignore[union-attr]
    tab.table.selectRow(row)
    qtbot.waitUntil(lambda: not tab.access.state_label.text().endswith("…"), timeout=10_000)


def _other_workstation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, central: Central) -> None:
    """From here on the settings and data are a second workstation's, URL with the web's login."""
    monkeypatch.setenv("IAMEDIC_SETTINGS_FILE", str(tmp_path / "second" / "settings.toml"))
    monkeypatch.setenv("IAMEDIC_DATA_DIR", str(tmp_path / "second" / "data"))
    reset_settings_cache()
    save_settings({"central_url": central.url.render_as_string(hide_password=False)})
    reset_settings_cache()


def _enroll(qtbot: QtBot, dialog: SettingsDialog, code: str, *, enter: bool = False) -> str:
    tab = dialog.central
    tab.code_edit.setText(code)
    if enter:  # Enter in the code enrolls; it must not also Save and close the dialog
        qtbot.keyClick(tab.code_edit, Qt.Key.Key_Return)
    else:
        qtbot.mouseClick(tab.enroll_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.enroll_button.isEnabled(), timeout=10_000)
    return tab.enroll_result.text()


def test_give_access_enroll_in_settings_refuse_a_second_use_revoke(
    qtbot: QtBot,
    runner: OperationRunner,
    central: Central,
    admin_store: LocalStore,
    file_keyring: FileKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tab = _tab(qtbot, runner, admin_store)
    _pick(qtbot, tab, DOCTOR)
    assert tab.access.state_label.text() == "Workstation logins: none"

    tab.access.grant_button.click()
    qtbot.waitUntil(lambda: tab.access.code_dialog is not None, timeout=10_000)
    dialog = tab.access.code_dialog
    assert dialog is not None and dialog.isVisible()
    code = dialog.code()
    assert len(code.replace("-", "")) == 24
    assert tab.access.state_label.text() == "Workstation logins: 1 waiting for enrollment"
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == code
    dialog.close()

    _other_workstation(tmp_path, monkeypatch, central)
    settings_dialog = SettingsDialog(get_settings(), runner, actor_is_admin=False)
    qtbot.addWidget(settings_dialog)
    settings_dialog.show()
    said = _enroll(qtbot, settings_dialog, code)
    assert said.startswith("This workstation is enrolled: it now connects as iamedic_u_"), said
    login = said.split(" as ")[1].split(",")[0]
    assert settings_dialog.central.fields["central_user"].text() == login  # type: ignore[attr-defined]
    written = tomllib.loads((tmp_path / "second" / "settings.toml").read_text(encoding="utf-8"))
    saved = make_url(written["central_url"])
    assert (saved.username, saved.database, saved.password) == (login, central.url.database, None)
    password = file_keyring.get_password(SERVICE, login)
    assert password is not None and password not in said
    psycopg2.connect(host="127.0.0.1", dbname=central.url.database, user=login).close()

    settings_dialog.tabs.setCurrentWidget(settings_dialog.central)
    again = _enroll(qtbot, settings_dialog, code, enter=True)
    assert settings_dialog.isVisible()
    assert again == (
        "Not enrolled: This enrollment code is not valid (unknown, already used or expired): "
        "ask an administrator for a new one."
    )

    _pick(qtbot, tab, ADMIN)
    _pick(qtbot, tab, DOCTOR)
    assert tab.access.state_label.text() == "Workstation logins: 1 enrolled"
    tab.access.revoke_button.click()
    qtbot.waitUntil(lambda: tab.access.confirm_box is not None)
    box = tab.access.confirm_box
    assert isinstance(box, QMessageBox)
    confirm = next(b for b in box.buttons() if b.text() == "Revoke access")
    assert isinstance(confirm, QPushButton)
    with qtbot.waitSignal(tab.message_shown, timeout=10_000) as shown:
        confirm.click()
    assert shown.args[0] == f"Workstation access of {DOCTOR} revoked: 1 login(s) disabled."
    assert tab.access.state_label.text() == "Workstation logins: 1 revoked"
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        central.connect_as(login)
