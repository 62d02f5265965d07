"""Ctrl+I with no study open says what to do first, without a file dialog to fill in vain."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.ui import menu_bar
from iamedic_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

LOAD_TIMEOUT_MS = 20_000


def test_ctrl_i_without_a_study_refuses_before_any_file_dialog(
    qtbot: QtBot,
    main_window_factory: Callable[[Settings], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def file_dialog(_parent: object, title: str) -> tuple[list[str], str]:
        asked.append(title)
        return ["/nonexistent/scan.png"], ""  # a user who picked a file anyway

    monkeypatch.setattr(menu_bar.QFileDialog, "getOpenFileNames", file_dialog)
    window = main_window_factory(get_settings())
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    window.activateWindow()
    assert window.current_study is None
    with qtbot.waitSignal(window.notified) as notified:
        qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert asked == []
    assert "Select or create a study first" in notified.args[0]
    assert window.statusBar().currentMessage() == notified.args[0]
