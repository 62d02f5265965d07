"""The audit browser opened from the Administration tab: entries made by a workstation's sync
and by plain SQL, filtered by table and user, paged, and Verify chain before and after the
owner edits an entry. Real widgets, a real PostgreSQL, a real sync."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, text

from iamedic_desktop.core.settings import get_settings, reset_settings_cache
from iamedic_desktop.core.settings_file import save_settings
from iamedic_desktop.services import studies
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.ui.administration_tab import AdministrationTab
from iamedic_desktop.ui.audit_browser import AuditBrowser
from iamedic_desktop.ui.operations import OperationRunner
from tests.factories import actor_for, make_user, seeding
from tests.support import web_writes as web
from tests.support.sync_world import (
    add_doctor,
    sign_in_store,
    workstation,
    workstation_settings,
)

pytestmark = [pytest.mark.postgres, pytest.mark.gui]

ADMIN, DOCTOR = "ada@example.org", "doc@example.org"
WHEN, USER, DEVICE, TABLE, ROW, CHANGE, WHAT = range(7)


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner()
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


@pytest.fixture
def written(central: Engine, pg_database: str, tmp_path: Path) -> str:
    """A doctor's workstation syncs a study; then psql-like SQL adds one: the sync's study id."""
    add_doctor(central, ADMIN, admin=True)
    doctor = add_doctor(central, DOCTOR)
    settings = workstation_settings(tmp_path / "doc", pg_database)
    sign_in_store(settings, DOCTOR)
    with workstation(settings) as ws:
        study = studies.create_study(ws.store.uow, ws.store.actor, "Synced")
        ws.sync()
    with central.begin() as conn:
        web.insert_study(conn, doctor, alias="By SQL")
        conn.execute(text("UPDATE studies SET alias = 'By SQL 2' WHERE alias = 'By SQL'"))
    return str(study.id)


@pytest.fixture
def admin_store(pg_database: str) -> Iterator[LocalStore]:
    save_settings({"central_url": pg_database})
    reset_settings_cache()
    store = open_local_store(get_settings(), check_sign_in=False)
    with seeding(store.uow) as session:
        ada = actor_for(make_user(session, email=ADMIN, name="Ada"))
    yield dataclasses.replace(store, actor=ada)
    store.close()


def _browser(qtbot: QtBot, runner: OperationRunner, store: LocalStore) -> AuditBrowser:
    tab = AdministrationTab(runner, get_settings(), store=store)
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.listed, timeout=10_000):
        pass
    tab.audit_button.click()
    dialog = tab.audit_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.browser.model.rowCount() > 0, timeout=10_000)
    return dialog.browser


def _rows(browser: AuditBrowser) -> list[tuple[str, ...]]:
    model = browser.model
    return [
        tuple(str(model.data(model.index(r, c))) for c in range(model.columnCount()))
        for r in range(model.rowCount())
    ]


def _search(qtbot: QtBot, browser: AuditBrowser) -> list[tuple[str, ...]]:
    with qtbot.waitSignal(browser.listed, timeout=10_000):
        browser.search_button.click()
    return _rows(browser)


def _verify(qtbot: QtBot, browser: AuditBrowser) -> str:
    with qtbot.waitSignal(browser.verified, timeout=10_000) as said:
        browser.verify_button.click()
    return str(said.args[0])


def test_entries_of_a_sync_and_of_sql_filtered_paged_and_the_chain_verified(
    qtbot: QtBot,
    runner: OperationRunner,
    central: Engine,
    written: str,
    admin_store: LocalStore,
) -> None:
    browser = _browser(qtbot, runner, admin_store)
    everything = _rows(browser)
    newest = everything[0]
    assert newest[TABLE:] == ("Studies", newest[ROW], "Changed", "alias")
    assert newest[USER] == "login postgres" and newest[DEVICE] == "—"
    synced = [r for r in everything if r[USER] == DOCTOR]
    assert ("Studies", written[:8], "Added", "whole row") in [r[TABLE:] for r in synced]
    assert all(r[DEVICE] != "—" for r in synced)

    browser.table_filter.setCurrentIndex(browser.table_filter.findData("studies"))
    qtbot.waitUntil(lambda: {r[TABLE] for r in _rows(browser)} == {"Studies"}, timeout=10_000)
    assert len(_rows(browser)) == 3  # the synced study, the one by SQL, its rename
    browser.user_edit.setText(DOCTOR)
    with qtbot.waitSignal(browser.listed, timeout=10_000):  # Enter searches, the window stays
        qtbot.keyClick(browser.user_edit, Qt.Key.Key_Return)
    qtbot.keyClick(browser.table, Qt.Key.Key_Return)
    assert browser.window().isVisible()
    assert [r[ROW] for r in _rows(browser)] == [written[:8]]
    browser.user_edit.setText("nobody@example.org")
    assert _search(qtbot, browser) == []
    assert browser.result_label.text() == (
        "No user has the email nobody@example.org: give the user's id instead."
    )

    browser.user_edit.clear()
    browser.table_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: len(_rows(browser)) == len(everything), timeout=10_000)
    browser._fetch(dataclasses.replace(browser._query, limit=2))  # two a page, to page
    qtbot.waitUntil(lambda: browser.older_button.isEnabled(), timeout=10_000)
    assert _rows(browser) == everything[:2] and not browser.newer_button.isEnabled()
    browser.older_button.click()
    qtbot.waitUntil(lambda: browser.newer_button.isEnabled(), timeout=10_000)
    assert _rows(browser) == everything[2:4]
    assert browser.page_label.text() == "Entries 3–4"

    total = len(everything)
    assert _verify(qtbot, browser) == (
        f"Chain intact: {total} entries checked (last entry {total})."
    )
    with central.begin() as conn:  # the owner edits entry 3
        conn.execute(text("UPDATE workstation.audit_log SET login = 'x' WHERE id = 3"))
    assert _verify(qtbot, browser) == (
        "Chain broken at entry 3: Entry 3 was changed after it was written. "
        "2 entries before it are intact."
    )


def test_an_admins_own_login_lists_what_it_may_see_and_is_told_why_it_cannot_verify(
    qtbot: QtBot, runner: OperationRunner, pg_server: str
) -> None:
    from tests.support.central_logins import login_for, web_owned_central

    with web_owned_central(pg_server) as central:
        add_doctor(central.engine, ADMIN, admin=True)
        doctor = add_doctor(central.engine, DOCTOR)
        with central.engine.begin() as conn:
            web.insert_study(conn, doctor, alias="Not the admin's")
        login = login_for(central, ADMIN)
        save_settings({"central_url": central.url_as(login).render_as_string()})
        reset_settings_cache()
        store = open_local_store(get_settings(), check_sign_in=False)
        try:
            with seeding(store.uow) as session:
                ada = actor_for(make_user(session, email=ADMIN, name="Ada"))
            browser = _browser(qtbot, runner, dataclasses.replace(store, actor=ada))
            # Row-level security: users, roles and profiles, never a doctor's study.
            assert {r[TABLE] for r in _rows(browser)} == {"Users", "User roles", "Doctor profiles"}
            assert _verify(qtbot, browser) == (
                "Not checked: This login sees only part of the audit log, so the chain cannot "
                "be checked here: run iamedic central audit verify with the database owner's "
                "login."
            )
        finally:
            store.close()
