"""The menu bar: every keyboard action by menu with its shortcut, undo labels, About, Settings."""

from __future__ import annotations

import platform
import re
import shutil
import sqlite3
import subprocess
from importlib.metadata import version

import pytest
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QUndoCommand
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.ui.keymap import ACTIONS, PORTABLE
from iamedic_desktop.ui.main_window import MainWindow
from tests.gui.sign_in_support import LOAD_TIMEOUT_MS, WindowFactory

pytestmark = pytest.mark.gui

MENUS = ["&File", "&Edit", "&View", "&Playback", "&Study", "&AI", "Se&ttings", "&Help"]


def _ready(qtbot: QtBot, factory: WindowFactory) -> MainWindow:
    window = factory(get_settings())
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    return window


def _menu_actions(window: MainWindow) -> dict[str, list[QAction]]:
    """Each top menu's actions, submenus flattened in."""
    found: dict[str, list[QAction]] = {}
    for top in window.menuBar().actions():
        pending, actions = list(top.menu().actions()), []
        while pending:
            action = pending.pop(0)
            if action.menu() is not None:
                pending.extend(action.menu().actions())
            elif not action.isSeparator():
                actions.append(action)
        found[top.text()] = actions
    return found


def test_the_menus_follow_the_desktop_order_and_hold_every_keyboard_action(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    window = _ready(qtbot, main_window_factory)
    menus = _menu_actions(window)
    assert list(menus) == MENUS
    everywhere = [a for actions in menus.values() for a in actions]
    keymap = window.window_actions.keymap
    for spec in ACTIONS:
        action = window.window_actions.actions[spec.name]
        assert action in everywhere, f"{spec.name} is in no menu"
        if not spec.when_box_selected:  # a nudge takes the arrows only with a box selected
            shown = action.shortcut().toString(PORTABLE)
            assert shown == keymap.keys(spec.name)[0], spec.name
    assert window.account.sign_in_action in menus["&File"]
    assert window.account.sign_out_action in menus["&File"]
    assert window.browser.new_action in menus["&Study"]
    assert window.browser.rename_action in menus["&Study"]
    assert window.browser.delete_action in menus["&Study"]
    assert window.menus.about_action in menus["&Help"]
    settings = window.window_actions.actions["settings"]
    assert settings in menus["Se&ttings"]
    # QKeySequence.Preferences where the platform defines it (Cmd+, on macOS, from Ctrl).
    assert settings.shortcut().toString(PORTABLE) == "Ctrl+,"
    assert window.view_menu.menuAction().text() == "&View"


def test_a_remapped_key_shows_in_the_menu(qtbot: QtBot, main_window_factory: WindowFactory) -> None:
    window = _ready(qtbot, main_window_factory)
    keymap = window.window_actions.keymap.copy()
    keymap.set_keys("fit", "G")
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS):  # saved in the settings
        window.menus.apply_keymap(keymap)
    fit = next(a for a in _menu_actions(window)["&View"] if a.objectName() == "action_fit")
    assert fit.shortcut().toString(PORTABLE) == "G"


class _Named(QUndoCommand):
    def __init__(self, text: str) -> None:
        super().__init__(text)


def test_undo_and_redo_say_what_they_would_do(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    window = _ready(qtbot, main_window_factory)
    undo = window.window_actions.actions["undo"]
    redo = window.window_actions.actions["redo"]
    assert (undo.text(), undo.isEnabled()) == ("Undo", False)
    stack = window.annotation.undo_stack
    stack.push(_Named("Move box"))
    assert (undo.text(), undo.isEnabled()) == ("Undo Move box", True)
    undo.trigger()
    assert (redo.text(), redo.isEnabled()) == ("Redo Move box", True)
    assert (undo.text(), undo.isEnabled()) == ("Undo", False)


def _ffmpeg_version() -> str:
    binary = shutil.which("ffmpeg")
    assert binary is not None
    first = subprocess.run([binary, "-version"], capture_output=True, text=True, check=True)
    match = re.match(r"ffmpeg version (\S+)", first.stdout)
    assert match is not None
    return match.group(1)


def test_about_names_the_versions_it_runs_on(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    window = _ready(qtbot, main_window_factory)
    about = next(a for a in _menu_actions(window)["&Help"] if a.text().startswith("About"))
    about.trigger()
    qtbot.waitUntil(lambda: window.menus.about_dialog is not None, timeout=LOAD_TIMEOUT_MS)
    dialog = window.menus.about_dialog
    assert dialog is not None
    import PySide6

    assert dialog.versions == {
        "IAMEDIC Workstation": version("iamedic-desktop"),
        "Python": platform.python_version(),
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "SQLite": sqlite3.sqlite_version,
        "pydicom": version("pydicom"),
        "ffmpeg": _ffmpeg_version(),
    }
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.menus.about_dialog is None)


def test_ctrl_comma_opens_the_settings_with_administration_for_an_admin(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    from iamedic_desktop.ui.settings_dialog import SettingsDialog

    window = _ready(qtbot, main_window_factory)
    qtbot.waitUntil(lambda: window.account.account is not None)
    assert "admin" in window.account.account.info.roles  # the local clinician in local mode
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.menus.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    assert dialog.admin_tab is not None
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: window.database.in_flight == 0, timeout=LOAD_TIMEOUT_MS)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.menus.settings_dialog is None)
