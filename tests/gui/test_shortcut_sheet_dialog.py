"""The shortcut sheet: lists every action's keys, captures a new key, refuses a clash, saves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.keymap import ACTIONS, Keymap
from iamedic_desktop.ui.shortcut_sheet_dialog import ShortcutSheetDialog

pytestmark = pytest.mark.gui


def _sheet(qtbot: QtBot, keymap: Keymap | None = None) -> ShortcutSheetDialog:
    dialog = ShortcutSheetDialog(keymap or Keymap())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_every_action_is_listed_with_its_keys(qtbot: QtBot) -> None:
    dialog = _sheet(qtbot)
    assert dialog.table.rowCount() == len(ACTIONS)
    assert dialog.keys_shown("play_pause") == "Space"
    assert dialog.keys_shown("step_back") == "A, Left"
    assert dialog.keys_shown("redo") == "Ctrl+Shift+Z, Ctrl+Y"
    assert "Arrows nudge the selected box" in dialog.message.text()


def test_a_captured_key_is_assigned_and_saved(qtbot: QtBot) -> None:
    original = Keymap()
    dialog = _sheet(qtbot, original)
    dialog.select_action("fit")
    dialog.key_edit.setFocus()
    qtbot.keyClick(dialog.key_edit, Qt.Key.Key_G, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.keys_shown("fit") == "Shift+G")
    assert "'Fit the image' is now Shift+G" in dialog.message.text()

    with qtbot.waitSignal(dialog.keymap_saved) as saved:
        dialog.save_button.click()

    assert saved.args[0].overrides() == {"fit": "Shift+G"}
    assert original.keys("fit") == ["F"]  # the caller's map changes only through the signal
    assert dialog.result() == dialog.DialogCode.Accepted


def test_a_key_already_in_use_is_refused_with_a_clear_message(qtbot: QtBot) -> None:
    dialog = _sheet(qtbot)
    dialog.select_action("fit")
    dialog.key_edit.setFocus()
    qtbot.keyClick(dialog.key_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Not changed"))
    assert "Ctrl+S is already 'Save now'" in dialog.message.text()
    assert dialog.keys_shown("fit") == "F"
    assert dialog.keymap.conflicts() == []


def test_no_key_and_reset_to_defaults(qtbot: QtBot) -> None:
    dialog = _sheet(qtbot, Keymap({"play_pause": "K"}))
    assert dialog.keys_shown("play_pause") == "K"
    dialog.select_action("useful")
    dialog.clear_button.click()
    assert dialog.keys_shown("useful") == ""
    assert dialog.keymap.overrides() == {"play_pause": "K", "useful": ""}

    dialog.reset_button.click()
    assert dialog.keys_shown("play_pause") == "Space"
    assert dialog.keys_shown("useful") == "U"
    assert dialog.keymap.overrides() == {}


def _focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def test_a_key_is_changed_from_the_keyboard_alone(qtbot: QtBot) -> None:
    dialog = ShortcutSheetDialog(Keymap())
    qtbot.addWidget(dialog)
    dialog.open()  # as F1 opens it
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.table)
    row = next(i for i, spec in enumerate(ACTIONS) if spec.name == "fit")
    for _ in range(row):
        qtbot.keyClick(_focused(), Qt.Key.Key_Down)
    assert dialog.current_action() == "fit"
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)  # capture a new key for the row
    assert _focused() is dialog.key_edit
    assert dialog.isVisible()
    assert "Press the new key for 'Fit the image'" in dialog.message.text()
    qtbot.keyClick(_focused(), Qt.Key.Key_G, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.keys_shown("fit") == "Shift+G")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.table)  # ready for another


def test_escape_cancels_the_capture_then_the_sheet(qtbot: QtBot) -> None:
    dialog = ShortcutSheetDialog(Keymap())
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.table)
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    assert _focused() is dialog.key_edit
    qtbot.keyClick(_focused(), Qt.Key.Key_Escape)  # not a key for the action: a way out
    assert dialog.keymap.overrides() == {}
    assert dialog.keys_shown(dialog.current_action()) == "Space"
    assert dialog.isVisible()
    assert _focused() is dialog.table
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(_focused(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()
