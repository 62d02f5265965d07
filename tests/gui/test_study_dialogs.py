"""The alias dialog says, while the alias is typed or pasted, why it cannot be used."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.study_dialogs import StudyNameDialog

pytestmark = pytest.mark.gui


def _dialog(qtbot: QtBot, alias: str = "") -> StudyNameDialog:
    dialog = StudyNameDialog(title="New study", ok_text="Create", alias=alias)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.alias_edit.hasFocus)  # the dialog gives the field the focus
    return dialog


def _type(qtbot: QtBot, dialog: StudyNameDialog, text: str) -> None:
    """Type ``text`` into the focused field; a character no key spells comes as an input
    method sends it (keyClicks spells Latin-1 only)."""
    for ch in text:
        if ord(ch) < 0x80:
            qtbot.keyClicks(dialog.alias_edit, ch)
        else:
            QTest.sendKeyEvent(
                QTest.KeyAction.Click,
                dialog.alias_edit,
                Qt.Key.Key_unknown,
                ch,
                Qt.KeyboardModifier.NoModifier,
            )


def _paste(qtbot: QtBot, dialog: StudyNameDialog, text: str) -> None:
    clipboard = QApplication.clipboard()
    assert clipboard is not None
    clipboard.setText(text)
    qtbot.keyClick(dialog.alias_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)


def test_a_zero_width_joiner_typed_is_named_and_blocks_ok(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _type(qtbot, dialog, "Twi\u200dns")
    assert dialog.alias_edit.text() == "Twi\u200dns"  # the field took it: it must be caught
    assert "invisible character (U+200D ZERO WIDTH JOINER)" in dialog.error_text
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.alias_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.alias_edit, "Twins")
    assert dialog.error_text == ""
    assert dialog.ok_button.isEnabled()


def test_a_pasted_direction_override_is_named(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    _paste(qtbot, dialog, "Twins \u202eSUOI")
    assert "U+202E" in dialog.error_text
    assert not dialog.ok_button.isEnabled()


def test_an_id_as_alias_is_refused_with_the_reason(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    spelled = str(uuid.uuid4())
    qtbot.keyClicks(dialog.alias_edit, spelled[:-1])
    assert dialog.error_text == ""  # not an id yet
    qtbot.keyClicks(dialog.alias_edit, spelled[-1])
    assert "spelled like a study id" in dialog.error_text
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.alias_edit, Qt.Key.Key_Return)
    assert not dialog.busy  # nothing was submitted


def test_a_refused_alias_from_elsewhere_says_why_at_once(qtbot: QtBot) -> None:
    # The web accepts any alias; renaming such a study shows what must change.
    dialog = _dialog(qtbot, alias="Old\u200bname")
    assert "U+200B" in dialog.error_text
    assert not dialog.ok_button.isEnabled()


def test_a_service_message_stays_until_the_alias_changes(qtbot: QtBot) -> None:
    dialog = _dialog(qtbot)
    qtbot.keyClicks(dialog.alias_edit, "Twins")
    qtbot.keyClick(dialog.alias_edit, Qt.Key.Key_Return)
    assert dialog.busy
    dialog.show_error("You already have a study named 'Twins'; choose another alias.")
    assert dialog.error_text.startswith("You already have a study named 'Twins'")
    assert dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.alias_edit, " 2")
    assert dialog.error_text == ""


def _opened(qtbot: QtBot, dialog: StudyNameDialog) -> QWidget:
    """Open ``dialog`` as the study editor does; the widget a user's keys reach."""
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    focused = QApplication.focusWidget()
    assert focused is not None
    return focused


@pytest.mark.parametrize(
    ("title", "alias"), [("New study", ""), ("Rename study", "Old name")], ids=["new", "rename"]
)
def test_what_is_typed_goes_into_the_alias_and_enter_submits(
    qtbot: QtBot, title: str, alias: str
) -> None:
    dialog = StudyNameDialog(title=title, ok_text="OK", alias=alias)
    focused = _opened(qtbot, dialog)
    qtbot.keyClicks(focused, "Twins week 12")  # the space must not press a button
    assert dialog.alias_edit.text() == "Twins week 12"  # a rename's old name was replaced
    assert dialog.isVisible()
    with qtbot.waitSignal(dialog.submitted) as submitted:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert submitted.args == ["Twins week 12"]


@pytest.mark.parametrize("alias", ["", "Old name"], ids=["new", "rename"])
def test_escape_cancels_the_alias_dialog(qtbot: QtBot, alias: str) -> None:
    dialog = StudyNameDialog(title="Study", ok_text="OK", alias=alias)
    focused = _opened(qtbot, dialog)
    qtbot.keyClicks(focused, "Half")
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert not dialog.busy
