"""The shortcut sheet: lists every action's keys, captures a new key, refuses a clash, saves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
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
