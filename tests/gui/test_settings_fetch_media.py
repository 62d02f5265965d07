"""The settings dialog's choice of when pulled media files are fetched: shown, saved, re-read."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import default_settings_file, get_settings
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner(max_threads=1)
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


def _dialog(qtbot: QtBot, runner: OperationRunner) -> tuple[SettingsDialog, QComboBox]:
    dialog = SettingsDialog(get_settings(), runner, False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    choice = dialog.findChild(QComboBox, "fetch_media")
    assert choice is not None and dialog.central.isAncestorOf(choice)
    return dialog, choice


def test_fetching_every_pulled_file_after_a_sync_is_chosen_saved_and_shown_again(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    dialog, choice = _dialog(qtbot, runner)
    assert (choice.currentData(), choice.currentText()) == ("on_demand", "When a media is opened")
    dialog.tabs.setCurrentWidget(dialog.central)
    choice.setFocus()
    qtbot.waitUntil(choice.hasFocus)
    qtbot.keyClick(choice, Qt.Key.Key_Down)  # the keyboard picks the next option
    assert choice.currentData() == "eager"

    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert tomllib.loads(default_settings_file().read_text())["fetch_media"] == "eager"
    assert saved.args[0].fetch_media == "eager"
    _again, shown = _dialog(qtbot, runner)
    assert shown.currentData() == "eager"
