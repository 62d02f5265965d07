"""GUI tests: offscreen Qt, QSettings in the test's folder, no operation left running.

Each fixture is defined under a ``..._fixture`` function name with its short ``name``, so the
window tests in ``tests/e2e`` can import them (``tests/e2e/window_fixtures.py``) without the
import and the test parameter sharing a name.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.ui.main_window import MainWindow

# Before pytest-qt creates the QApplication; an explicit choice (xcb to watch) is kept.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(name="isolated_qsettings", autouse=True)
def isolated_qsettings_fixture(tmp_path: Path) -> Iterator[Path]:
    """Window geometry and view state go to the test's own folder, never the user's."""
    from PySide6.QtCore import QSettings

    folder = tmp_path / "qsettings"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder / "user"))
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, str(folder / "system"))
    yield folder


@pytest.fixture(name="no_operation_left_running", autouse=True)
def no_operation_left_running_fixture() -> Iterator[None]:
    """A test that leaves background work running (or undelivered) fails.

    Afterwards the test's Qt wrappers are collected here, on the UI thread with no work
    running, rather than by a garbage collection that happens to start in the middle of the
    next test (on whatever thread allocates then), which crashed PySide.
    """
    yield
    from iamedic_desktop.ui.operations import live_runners

    busy = [runner for runner in live_runners() if not runner.is_idle()]
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert not busy, f"{len(busy)} operation runner(s) still busy after the test"


@pytest.fixture(name="main_window_factory")
def main_window_factory_fixture(qtbot: QtBot) -> Iterator[Callable[[Settings], MainWindow]]:
    """Makes main windows that live until the test ends and are then closed by qtbot.

    Holding them here matters: a window the garbage collector takes is destroyed without
    its closeEvent, so its background work would not be shut down first.
    """
    from iamedic_desktop.ui.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(settings: Settings) -> MainWindow:
        window = MainWindow(settings)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    windows.clear()
