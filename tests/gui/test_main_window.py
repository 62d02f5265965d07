"""The main window as a composition root: store, docks, status bar, drops, keys, state, closing."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.settings import Settings, default_settings_file, get_settings
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.studies import create_study, list_studies
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.shortcut_sheet_dialog import ShortcutSheetDialog

pytestmark = pytest.mark.gui

WindowFactory = Callable[[Settings], MainWindow]
LOAD_TIMEOUT_MS = 20_000


def _ready(qtbot: QtBot, factory: WindowFactory, settings: Settings | None = None) -> MainWindow:
    window = factory(settings or get_settings())
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    return window


def test_the_window_opens_on_the_store_with_its_docks_and_local_mode(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    window = _ready(qtbot, main_window_factory, settings)

    assert window.windowTitle() == "IAMEDIC Workstation"
    assert window.mode_indicator.text() == f"Local mode · {settings.local_user_name}"
    assert window.dockWidgetArea(window.browser) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.annotation_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.centralWidget() is window.review
    assert not window.review.media_open  # the hint, until a scan is opened
    assert window.statusBar().currentMessage() == "Local store ready"


def test_opening_a_study_titles_the_window_and_is_remembered(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    store = open_local_store(settings)
    create_study(store.uow, store.actor, "Older study")
    study = create_study(store.uow, store.actor, "NT check 12w")
    store.close()
    first = _ready(qtbot, main_window_factory, settings)
    qtbot.waitUntil(lambda: first.browser.model.row_of(study.id) is not None)
    first.browser.open_study(study.id)
    qtbot.waitUntil(lambda: first.windowTitle() == "IAMEDIC Workstation — NT check 12w")
    first.close()

    second = _ready(qtbot, main_window_factory, settings)
    qtbot.waitUntil(lambda: second.current_study is not None, timeout=LOAD_TIMEOUT_MS)
    assert second.current_study.id == study.id
    assert second.windowTitle() == "IAMEDIC Workstation — NT check 12w"


def test_a_store_from_a_newer_version_is_reported_not_opened(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    engine = create_local_engine(settings.local_db_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
    engine.dispose()

    window = main_window_factory(settings)
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS) as notified:
        window.show()

    message = notified.args[0]
    assert message.startswith("Error: ") and "newer IAMEDIC Workstation" in message
    assert window.statusBar().currentMessage() == message
    assert window.store is None


def test_geometry_and_dock_layout_are_remembered(
    qtbot: QtBot, main_window_factory: WindowFactory, isolated_qsettings: Path
) -> None:
    first = _ready(qtbot, main_window_factory)
    first.annotation_dock.hide()
    first.resize(first.width(), 640)  # the offscreen screen is 800 x 800
    first.close()

    second = _ready(qtbot, main_window_factory)
    assert second.height() == 640
    assert not second.annotation_dock.isVisible() and second.browser.isVisible()
    assert any(isolated_qsettings.rglob("*.conf")), "state written outside the test folder"


def _drop(window: MainWindow, paths: list[Path]) -> None:
    # As a drag from a file manager arrives: enter (accepted: local files), then the drop.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = QPoint(window.width() // 2, window.height() // 2)
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(centre, *args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(centre), *args))


def test_files_dropped_on_the_window_go_to_the_browsers_import(
    qtbot: QtBot, main_window_factory: WindowFactory, tmp_path: Path
) -> None:
    window = _ready(qtbot, main_window_factory)
    dropped = tmp_path / "scan.png"
    dropped.write_bytes(b"not really a scan")

    with qtbot.waitSignal(window.notified) as notified:
        _drop(window, [dropped])  # no study open: the browser refuses, the window says why
    assert notified.args[0] == "Error: Select or create a study first, then import into it."
    assert window.statusBar().currentMessage() == notified.args[0]


def test_failures_of_background_work_take_the_one_notification_path(
    qtbot: QtBot, main_window_factory: WindowFactory, caplog: pytest.LogCaptureFixture
) -> None:
    window = _ready(qtbot, main_window_factory)

    def broken() -> None:
        raise OSError("disk unplugged")

    with qtbot.waitSignal(window.notified) as notified:
        window.workers.run(broken)
    assert notified.args[0] == "Error: Unexpected error: OSError: disk unplugged"
    assert window.statusBar().currentMessage() == notified.args[0]
    assert "disk unplugged" in caplog.text


def test_the_status_bar_shows_background_work_while_it_runs(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    window = _ready(qtbot, main_window_factory)
    qtbot.waitUntil(lambda: not window.status.busy)  # the first listing is read
    release = threading.Event()
    window.database.run(lambda: release.wait(10))
    assert window.status.busy
    assert window.status.operation_label.text() == "Database: 1 task"
    release.set()
    qtbot.waitUntil(lambda: not window.status.busy)


def test_f1_shows_the_shortcut_sheet_and_a_saved_keymap_applies_at_once(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    window = _ready(qtbot, main_window_factory)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    sheet = window.findChild(ShortcutSheetDialog)
    assert sheet is not None and sheet.isVisible()

    sheet.select_action("extract_frame")
    sheet.key_edit.setFocus()
    qtbot.keyClick(sheet.key_edit, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sheet.keys_shown("extract_frame") == "Ctrl+X")
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS) as saved:
        sheet.save_button.click()

    assert saved.args[0] == f"Shortcuts saved in {default_settings_file()}"
    assert window.window_actions.actions["extract_frame"].shortcut().toString() == "Ctrl+X"
    stored = tomllib.loads(default_settings_file().read_text(encoding="utf-8"))
    assert stored["keymap"] == {"extract_frame": "Ctrl+X"}


def test_a_clashing_keymap_in_the_settings_is_reported_and_defaults_kept(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    default_settings_file().write_text('[keymap]\nzoom_in = "Space"\n', encoding="utf-8")
    settings = get_settings()
    window = _ready(qtbot, main_window_factory, settings)
    assert window.window_actions.actions["play_pause"].shortcut().toString() == "Space"
    assert window.window_actions.actions["zoom_in"].shortcut().toString() == "+"
    assert window.keymap_problems == [
        "Shortcut Space was given to 2 actions; 'Zoom in' keeps its default key."
    ]


def test_closing_waits_for_queued_writes_before_the_store_closes(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    window = _ready(qtbot, main_window_factory, settings)
    store = window.store
    assert store is not None

    def slow_write(alias: str) -> None:
        time.sleep(0.2)  # on the database thread: a save still under way when the user quits
        create_study(store.uow, store.actor, alias)

    for alias in ("Saved before quit 1", "Saved before quit 2", "Saved before quit 3"):
        window.database.run(lambda alias=alias: slow_write(alias))
    window.close()

    check = open_local_store(settings)
    try:
        aliases = {s.alias for s in list_studies(check.uow, check.actor, limit=50).items}
    finally:
        check.close()
    assert {"Saved before quit 1", "Saved before quit 2", "Saved before quit 3"} <= aliases
