"""``run_gui``: the themed window runs its event loop until it is closed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.ui.app import resources_dir, run_gui
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.theme import BASE

pytestmark = pytest.mark.gui


def test_run_gui_shows_the_window_until_it_is_closed(qapp: QApplication) -> None:
    seen: list[MainWindow] = []

    def close_once_ready() -> None:
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
        seen.append(window)
        window.store_ready.connect(window.close)

    # A guard so a broken start cannot hang the run; stopped as soon as the loop returns.
    guard = QTimer(singleShot=True, interval=30_000)
    guard.timeout.connect(qapp.quit)
    guard.start()
    QTimer.singleShot(0, close_once_ready)
    try:
        code = run_gui(get_settings())
    finally:
        guard.stop()

    assert code == 0
    assert len(seen) == 1 and seen[0].store is None  # closed, store released
    assert qapp.palette().color(QPalette.ColorRole.Base).name() == BASE
    assert not qapp.windowIcon().isNull()
    assert (resources_dir() / "icons" / "iamedic.svg").is_file()
