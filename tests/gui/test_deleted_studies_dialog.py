"""The Deleted studies dialog over a real local store and real runners: the user's deleted
studies with when and how many media, Restore, and the study browser taking it back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from iamedic_desktop.services import studies
from iamedic_desktop.ui.deleted_studies_dialog import DeletedStudiesDialog
from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock
from tests.gui.study_browser_support import WAIT_MS, BrowserEnv, add_media, add_widget, browser_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: QtBot) -> Iterator[BrowserEnv]:
    with browser_env(qtbot) as made:
        yield made


def _dialog(qtbot: QtBot, env: BrowserEnv) -> DeletedStudiesDialog:
    dialog = DeletedStudiesDialog(env.database, env.store)
    add_widget(qtbot, env, dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
        dialog.show()
    return dialog


def _rows(dialog: DeletedStudiesDialog) -> list[tuple[str, str, str]]:
    table = dialog.table
    return [
        tuple(table.item(row, column).text() for column in range(3))  # type: ignore[misc]
        for row in range(table.rowCount())
    ]


def test_lists_the_deleted_studies_with_when_and_media(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    older = studies.create_study(store.uow, store.actor, "Older")
    add_media(store, older.id)
    add_media(store, older.id)
    studies.create_study(store.uow, store.actor, "Newer")
    studies.create_study(store.uow, store.actor, "Active")
    studies.delete_study(store.uow, store.actor, "Older")
    deleted = studies.delete_study(store.uow, store.actor, "Newer")

    dialog = _dialog(qtbot, env)

    when = deleted.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert [(alias, media) for alias, _, media in _rows(dialog)] == [("Newer", "0"), ("Older", "2")]
    assert _rows(dialog)[0][1] == when
    assert dialog.table.currentRow() == 0  # ready for Restore at once
    assert dialog.restore_button.isEnabled()


def test_no_deleted_studies_says_so(qtbot: QtBot, env: BrowserEnv) -> None:
    studies.create_study(env.store.uow, env.store.actor, "Active")
    dialog = _dialog(qtbot, env)
    assert dialog.table.rowCount() == 0
    assert dialog.message_text == "You have no deleted studies."
    assert not dialog.restore_button.isEnabled()


def test_restore_from_the_keyboard(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    for alias in ("First", "Second"):
        studies.create_study(store.uow, store.actor, alias)
        studies.delete_study(store.uow, store.actor, alias)
    dialog = _dialog(qtbot, env)
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Down)  # the second row: "First"
    with qtbot.waitSignal(dialog.restored, timeout=WAIT_MS) as restored:
        qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    assert restored.args[0].alias == "First"
    qtbot.waitUntil(lambda: [r[0] for r in _rows(dialog)] == ["Second"], timeout=WAIT_MS)
    assert dialog.message_text == "Study 'First' restored with no media."
    assert studies.get_study(store.uow, store.actor, "First").is_active
    assert dialog.isVisible()  # more may be restored; Close ends it


def test_escape_while_restoring_waits_for_the_outcome(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    studies.create_study(store.uow, store.actor, "Patient wait")
    studies.delete_study(store.uow, store.actor, "Patient wait")
    dialog = _dialog(qtbot, env)
    dialog.restore_button.click()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)  # before the answer: it must be shown
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.message_text.startswith("Study 'Patient wait'"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: dialog.restore_button.isEnabled() or dialog.table.rowCount() == 0)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_failed_restore_is_explained_in_the_dialog(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    gone = studies.create_study(store.uow, store.actor, "Gone")
    studies.delete_study(store.uow, store.actor, "Gone")
    dialog = _dialog(qtbot, env)
    # Restored elsewhere (the command line) in the meantime: said plainly, list refreshed.
    studies.restore_study(store.uow, store.actor, str(gone.id))
    with qtbot.waitSignal(dialog.loaded, timeout=WAIT_MS):
        dialog.restore_button.click()
    assert dialog.message_text == "Study 'Gone' is not deleted; nothing to restore."
    assert dialog.table.rowCount() == 0


def test_the_browser_opens_it_and_lists_a_restored_study(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    studies.create_study(store.uow, store.actor, "Kept")
    back = studies.create_study(store.uow, store.actor, "Coming back")
    studies.delete_study(store.uow, store.actor, "Coming back")
    dock = StudyBrowserDock(env.database, env.workers)
    add_widget(qtbot, env, dock)
    dock.show()
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.set_store(store)
    assert dock.model.total == 1
    assert dock.deleted_action.isEnabled()

    dock.deleted_action.trigger()
    dialog = dock.findChild(DeletedStudiesDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    with qtbot.waitSignal(dock.study_opened, timeout=WAIT_MS) as opened:
        dialog.restore_button.click()
    assert opened.args[0].id == back.id  # listed again, and opened
    assert dock.model.total == 2
    dialog.close()


def test_a_window_action_opens_it(qtbot: QtBot, env: BrowserEnv) -> None:
    from PySide6.QtWidgets import QMainWindow

    from iamedic_desktop.ui.keymap import Keymap
    from iamedic_desktop.ui.window_actions import WindowActions, bind_study_actions

    window = QMainWindow()
    dock = StudyBrowserDock(env.database, env.workers, window)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    add_widget(qtbot, env, window)
    actions = WindowActions(window, Keymap())
    bind_study_actions(actions, dock)
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.set_store(env.store)
    action = actions.actions["deleted_studies"]
    assert action.shortcut().toString() == "Ctrl+Shift+R"
    assert action.isEnabled()
    actions.trigger("deleted_studies")
    dialog = dock.findChild(DeletedStudiesDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.restore_button.isEnabled() and bool(dialog.message_text))
    dialog.close()


def test_keys_reach_the_list_as_soon_as_it_opens(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    for alias in ("First", "Second"):
        studies.create_study(store.uow, store.actor, alias)
        studies.delete_study(store.uow, store.actor, alias)
    dialog = _dialog(qtbot, env)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.table)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)  # the second row: "First"
    with qtbot.waitSignal(dialog.restored, timeout=WAIT_MS) as restored:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert restored.args[0].alias == "First"
    qtbot.waitUntil(lambda: [r[0] for r in _rows(dialog)] == ["Second"], timeout=WAIT_MS)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()
