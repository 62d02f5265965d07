"""The Administration tab: users listed, filtered and sorted; approve, deny, roles, accounts."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QVBoxLayout
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, delete, select
from sqlalchemy.engine import make_url

from iamedic_desktop.core.settings import Settings, get_settings, reset_settings_cache
from iamedic_desktop.models import Base, DoctorProfile, Role, User, UserRole
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.ui.administration_tab import AdministrationTab
from iamedic_desktop.ui.operations import OperationRunner
from tests.factories import actor_for, make_admin, make_doctor, make_user, seeding

LOCAL = "local@iamedic.invalid"  # the local-mode clinician: admin and approved doctor
LISTED = ["zoe@example.org", "ben@example.org", "cy@example.org", "dee@example.org", LOCAL]
NAME, EMAIL, ROLES, ACTIVE, STATUS = range(5)

TabFactory = Callable[..., AdministrationTab]
Held = tuple[list[str], bool, str | None, str | None]


@pytest.fixture(name="settings")
def settings_fixture() -> Settings:
    return get_settings()


@pytest.fixture(name="local_uow")
def local_uow_fixture(settings: Settings) -> Iterator[UnitOfWorkFactory]:
    """The workstation's store, seeded: a pending, an approved, a denied and an inactive user."""
    store = open_local_store(settings)
    with seeding(store.uow) as session:
        make_user(session, email="zoe@example.org", name="Zoe", doctor_status="pending")
        make_doctor(session, email="ben@example.org", name="Ben")
        make_user(session, email="cy@example.org", name="Cy", doctor_status="denied")
        make_user(session, email="dee@example.org", name="Dee", is_active=False)
    try:
        yield store.uow
    finally:
        store.close()


@pytest.fixture(name="make_tab")
def make_tab_fixture(qtbot: QtBot, settings: Settings) -> Iterator[TabFactory]:
    runner = OperationRunner()

    def make(store: LocalStore | None = None, with_settings: Settings | None = None) -> Any:
        tab = AdministrationTab(runner, with_settings or settings, store=store)
        qtbot.addWidget(tab)
        tab.resize(1000, 600)
        tab.show()
        return tab

    yield make
    qtbot.waitUntil(runner.is_idle)
    runner.shutdown()


def emails(tab: AdministrationTab) -> list[str]:
    rows = (tab.model.user(row) for row in range(tab.model.rowCount()))
    return [user.email for user in rows if user is not None]


def cell(tab: AdministrationTab, email: str, column: int) -> str:
    row = emails(tab).index(email)
    return str(tab.model.data(tab.model.index(row, column)))


def listed(qtbot: QtBot, tab: AdministrationTab, expected: list[str]) -> None:
    qtbot.waitUntil(lambda: emails(tab) == expected)


def pick(tab: AdministrationTab, email: str) -> None:
    tab.table.selectRow(emails(tab).index(email))
    assert tab.details.user is not None and tab.details.user.email == email


def act(qtbot: QtBot, tab: AdministrationTab, button_name: str) -> str:
    """Click a details button; the message the tab shows afterwards."""
    with qtbot.waitSignal(tab.message_shown) as shown:
        getattr(tab.details, button_name).click()
    return str(shown.args[0])


def held(uow: UnitOfWorkFactory, email: str) -> Held:
    """Roles, active, registration status and notes, as the store holds them."""
    with uow() as work:
        session = work.session
        user = session.scalars(select(User).where(User.email == email)).one()
        roles = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
        profile = session.scalars(
            select(DoctorProfile).where(DoctorProfile.user_id == user.id)
        ).one_or_none()
        status, notes = (profile.status, profile.notes) if profile else (None, None)
        return roles, user.is_active is not False, status, notes


def decide(qtbot: QtBot, tab: AdministrationTab, button_name: str, notes: str) -> str:
    """Approve… or Deny…: type the notes into the focused field and press Enter."""
    getattr(tab.details, button_name).click()
    qtbot.waitUntil(lambda: tab.notes_dialog is not None and tab.notes_dialog.isVisible())
    dialog = tab.notes_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.notes_edit)
    qtbot.keyClicks(QApplication.focusWidget(), notes)
    with qtbot.waitSignal(tab.message_shown) as shown:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    return str(shown.args[0])


# --- listing ----------------------------------------------------------------------------------


def test_users_are_listed_pending_first_with_where_the_changes_go(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    assert tab.where_label.text() == "Changes go to: This workstation"
    assert [cell(tab, LOCAL, c) for c in range(5)] == [
        "Local clinician", LOCAL, "admin, doctor", "Yes", "Approved"
    ]  # fmt: skip
    assert cell(tab, "zoe@example.org", STATUS) == "Pending"
    assert cell(tab, "dee@example.org", ACTIVE) == "No"
    assert cell(tab, "cy@example.org", ROLES) == "none"
    # Without pending first, the order is the e-mail's.
    tab.pending_first.setChecked(False)
    listed(qtbot, tab, sorted(LISTED))


def test_the_search_and_the_filters_narrow_the_listing(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    tab.search_edit.setFocus()
    qtbot.keyClicks(tab.search_edit, "cy@")
    listed(qtbot, tab, ["cy@example.org"])
    tab.search_edit.clear()
    listed(qtbot, tab, LISTED)
    tab.status_filter.setCurrentIndex(tab.status_filter.findData("approved"))
    listed(qtbot, tab, ["ben@example.org", LOCAL])
    tab.role_filter.setCurrentIndex(tab.role_filter.findData("admin"))
    listed(qtbot, tab, [LOCAL])
    tab.role_filter.setCurrentIndex(0)
    tab.status_filter.setCurrentIndex(tab.status_filter.findData("none"))
    listed(qtbot, tab, ["dee@example.org"])
    tab.status_filter.setCurrentIndex(0)
    tab.active_filter.setCurrentIndex(tab.active_filter.findData(False))
    listed(qtbot, tab, ["dee@example.org"])


def test_a_column_header_sorts_and_pending_stays_first(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    tab.table.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    # Names: Zoe (pending, first anyway), Local clinician, Dee, Cy, Ben.
    order = ["zoe@example.org", LOCAL, "dee@example.org", "cy@example.org", "ben@example.org"]
    listed(qtbot, tab, order)
    tab.table.sortByColumn(STATUS, Qt.SortOrder.AscendingOrder)
    listed(qtbot, tab, ["zoe@example.org", "ben@example.org", LOCAL, "cy@example.org",
                        "dee@example.org"])  # fmt: skip
    # Roles cannot order the query: the arrow stays on the order that holds.
    tab.table.sortByColumn(ROLES, Qt.SortOrder.AscendingOrder)
    assert tab.table.horizontalHeader().sortIndicatorSection() == STATUS


def test_pages_come_as_the_table_is_scrolled(
    qtbot: QtBot, settings: Settings, make_tab: TabFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("iamedic_desktop.ui.administration_tab.PAGE_SIZE", 2)
    store = open_local_store(settings)
    with seeding(store.uow) as session:
        for n in range(4):
            make_user(session, email=f"u{n}@example.org")
    store.close()
    tab = make_tab()
    qtbot.waitUntil(lambda: tab.model.total == 5)
    tab.table.scrollToBottom()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 5)
    assert emails(tab) == [LOCAL, *(f"u{n}@example.org" for n in range(4))]


def test_enter_in_the_search_lists_at_once_and_leaves_the_dialog_open(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, settings: Settings, make_tab: TabFactory
) -> None:
    # The tab lives in the settings dialog, whose default button saves and closes it.
    dialog = QDialog()
    qtbot.addWidget(dialog)
    layout = QVBoxLayout(dialog)
    tab = make_tab()
    layout.addWidget(tab)
    save = QPushButton("Save", dialog, default=True)
    layout.addWidget(save)
    dialog.show()
    listed(qtbot, tab, LISTED)
    tab.search_edit.setFocus()
    qtbot.waitUntil(tab.search_edit.hasFocus)
    qtbot.keyClicks(tab.search_edit, "ben")
    with qtbot.assertNotEmitted(save.clicked), qtbot.waitSignal(tab.listed):
        qtbot.keyClick(tab.search_edit, Qt.Key.Key_Return)
    assert emails(tab) == ["ben@example.org"]
    tab.table.setFocus()
    qtbot.waitUntil(tab.table.hasFocus)
    with qtbot.assertNotEmitted(save.clicked):
        qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    assert dialog.isVisible()


# --- decisions --------------------------------------------------------------------------------


def test_approve_takes_the_notes_typed_and_repaints_only_that_row(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, "zoe@example.org")
    repainted: list[tuple[int, int]] = []

    def seen(top: Any, bottom: Any, _roles: Any = ()) -> None:
        repainted.append((top.row(), bottom.row()))

    tab.model.dataChanged.connect(seen)
    message = decide(qtbot, tab, "approve_button", "Checked the register")
    assert message == (
        "The registration of zoe@example.org is approved; the doctor role was granted."
    )
    assert held(local_uow, "zoe@example.org") == (
        ["doctor"], True, "approved", "Checked the register"
    )  # fmt: skip
    assert repainted == [(0, 0)]
    assert (cell(tab, "zoe@example.org", STATUS), cell(tab, "zoe@example.org", ROLES)) == (
        "Approved",
        "doctor",
    )
    assert tab.details.values["notes"].text() == "Checked the register"
    assert tab.details.doctor_button.text() == "Revoke doctor"


def test_escape_in_the_notes_dialog_changes_nothing(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, "zoe@example.org")
    before = held(local_uow, "zoe@example.org")
    tab.details.deny_button.click()
    qtbot.waitUntil(lambda: tab.notes_dialog is not None and tab.notes_dialog.isVisible())
    dialog = tab.notes_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.notes_edit)
    qtbot.keyClicks(QApplication.focusWidget(), "no")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: tab.notes_dialog is None)
    assert tab.message_label.text() == ""
    assert held(local_uow, "zoe@example.org") == before


def test_deny_says_the_doctor_role_stays_and_a_denial_is_final(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, "ben@example.org")
    message = decide(qtbot, tab, "deny_button", "Licence lapsed")
    assert message.startswith("The registration of ben@example.org was denied.")
    assert "The doctor role was left in place" in message
    assert held(local_uow, "ben@example.org") == (["doctor"], True, "denied", "Licence lapsed")
    assert cell(tab, "ben@example.org", STATUS) == "Denied"
    refusal = decide(qtbot, tab, "approve_button", "")
    assert "a denial is final" in refusal
    assert held(local_uow, "ben@example.org") == (["doctor"], True, "denied", "Licence lapsed")


# --- roles and accounts -----------------------------------------------------------------------


def test_roles_are_granted_and_revoked(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, "cy@example.org")
    assert act(qtbot, tab, "admin_button") == "cy@example.org was given the admin role."
    assert cell(tab, "cy@example.org", ROLES) == "admin"
    assert tab.details.admin_button.text() == "Revoke admin"
    assert act(qtbot, tab, "doctor_button") == "cy@example.org was given the doctor role."
    assert held(local_uow, "cy@example.org")[0] == ["admin", "doctor"]
    assert act(qtbot, tab, "admin_button") == "The admin role was taken from cy@example.org."
    assert act(qtbot, tab, "doctor_button") == "The doctor role was taken from cy@example.org."
    assert held(local_uow, "cy@example.org")[0] == []
    assert cell(tab, "cy@example.org", ROLES) == "none"


def test_a_role_given_meanwhile_is_said_to_be_held_already(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, "cy@example.org")
    with seeding(local_uow) as session:  # another admin, elsewhere, after the listing
        user = session.scalars(select(User).where(User.email == "cy@example.org")).one()
        session.add(UserRole(id=uuid.uuid4(), user_id=user.id, role="doctor"))
    assert act(qtbot, tab, "doctor_button") == "cy@example.org already holds the doctor role."
    # The row now shows what the store holds.
    assert cell(tab, "cy@example.org", ROLES) == "doctor"
    assert tab.details.doctor_button.text() == "Revoke doctor"


def test_accounts_are_deactivated_and_reactivated(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, "ben@example.org")
    assert act(qtbot, tab, "active_button") == "The account ben@example.org was deactivated."
    assert (cell(tab, "ben@example.org", ACTIVE), held(local_uow, "ben@example.org")[1]) == (
        "No",
        False,
    )
    assert tab.details.active_button.text() == "Reactivate"
    assert act(qtbot, tab, "active_button") == "The account ben@example.org was activated."
    assert (cell(tab, "ben@example.org", ACTIVE), held(local_uow, "ben@example.org")[1]) == (
        "Yes",
        True,
    )


def test_the_last_admin_and_ones_own_account_are_refused(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    tab = make_tab()
    listed(qtbot, tab, LISTED)
    pick(tab, LOCAL)
    before = held(local_uow, LOCAL)
    refusal = act(qtbot, tab, "admin_button")
    assert refusal.startswith("You are the only active administrator")
    assert act(qtbot, tab, "active_button") == (
        "You cannot deactivate your own account; another administrator can."
    )
    assert held(local_uow, LOCAL) == before
    assert (cell(tab, LOCAL, ROLES), cell(tab, LOCAL, ACTIVE)) == ("admin, doctor", "Yes")
    assert tab.details.isEnabled()  # ready for the next action


# --- who may use it ---------------------------------------------------------------------------


def test_for_someone_who_is_not_an_admin_the_tab_shows_the_refusal(
    qtbot: QtBot, local_uow: UnitOfWorkFactory, make_tab: TabFactory
) -> None:
    with seeding(local_uow) as session:  # the local clinician stays an approved doctor only
        local = session.scalars(select(User).where(User.email == LOCAL)).one()
        session.execute(
            delete(UserRole).where(UserRole.user_id == local.id, UserRole.role == Role.ADMIN)
        )
    tab = make_tab()
    with qtbot.waitSignal(tab.listed):
        pass
    assert tab.message_label.text() == (
        "This needs an administrator: your account does not hold the admin role."
    )
    assert tab.model.rowCount() == 0
    assert not tab.details.approve_button.isEnabled()


# --- the central database ---------------------------------------------------------------------


@pytest.mark.postgres
def test_an_approval_lands_in_the_central_database(
    qtbot: QtBot,
    pg_database: str,
    make_tab: TabFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_engine(pg_database)
    Base.metadata.create_all(engine)
    central = UnitOfWorkFactory(engine)
    with seeding(central) as session:
        make_admin(session, email="ada@example.org", name="Ada Admin")
        make_user(session, email="zoe@example.org", name="Zoe", doctor_status="pending")
    monkeypatch.setenv("IAMEDIC_CENTRAL_URL", pg_database)
    reset_settings_cache()
    settings = get_settings()
    store = open_local_store(settings, check_sign_in=False)
    try:
        with seeding(store.uow) as session:  # as sign-in leaves it: Ada under a local id
            ada = actor_for(make_user(session, email="ada@example.org", name="Ada Admin"))
        tab = make_tab(dataclasses.replace(store, actor=ada), settings)
        listed(qtbot, tab, ["zoe@example.org", "ada@example.org"])
        name = make_url(pg_database).database
        assert tab.where_label.text() == f"Changes go to: Central database 127.0.0.1:5432/{name}"
        pick(tab, "zoe@example.org")
        message = decide(qtbot, tab, "approve_button", "Welcome")
        assert message.endswith("the doctor role was granted.")
        assert held(central, "zoe@example.org") == (["doctor"], True, "approved", "Welcome")
        # Straight to the central database: this workstation knows nothing of Zoe.
        with store.uow() as work:
            assert (
                work.session.scalars(select(User).where(User.email == "zoe@example.org")).all()
                == []
            )
    finally:
        store.close()
        engine.dispose()


def test_with_the_central_database_unreachable_the_changes_stay_on_this_workstation(
    qtbot: QtBot,
    local_uow: UnitOfWorkFactory,
    make_tab: TabFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IAMEDIC_CENTRAL_URL", "postgresql://clinic@127.0.0.1:9/iamedic")
    reset_settings_cache()
    tab = make_tab(None, get_settings())
    listed(qtbot, tab, LISTED)
    assert tab.where_label.text() == (
        "Changes go to: This workstation (offline: the central database 127.0.0.1:9/iamedic "
        "is unreachable)"
    )
    pick(tab, "dee@example.org")
    assert act(qtbot, tab, "active_button") == "The account dee@example.org was activated."
    assert held(local_uow, "dee@example.org")[1] is True
