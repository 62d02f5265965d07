"""The window's layout never breaks: long texts are elided, small screens fit, layouts reset.

The offscreen screen is 800 x 800, so a window of 800 x 600 is a small screen here: every part
must fit in it with both docks shown, whatever the texts, and keep fitting after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QRect, Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QScrollArea
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.media_records import rename_media
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.window_layout import DOCK_WIDTH
from iamedic_desktop.ui.window_state import window_settings
from tests.gui.player_media import stored_dicom_cine

pytestmark = pytest.mark.gui

WindowFactory = Callable[[Settings], MainWindow]
LOAD_TIMEOUT_MS = 20_000
SMALL = (800, 600)
# Restored on the 800 px offscreen screen, a window's frame (2 px a side) must fit it too.
RESTORED = (780, 580)
LONG_ALIAS = "Anatomy scan 20w " + "x" * (255 - len("Anatomy scan 20w "))
LONG_NAME = "cine " + "y" * 491 + ".mp4"
LONG_UNDO = "Nudge the CM box " + "by one pixel to the left " * 8


def _ready(qtbot: QtBot, factory: WindowFactory, settings: Settings) -> MainWindow:
    window = factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    return window


def _sized(window: MainWindow, size: tuple[int, int]) -> None:
    """The user's own size (a first start on this small screen opens maximised)."""
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.resize(*size)


def _docks(window: MainWindow) -> list[QDockWidget]:
    return [window.browser, window.annotation_dock]


def _layout(window: MainWindow) -> dict[str, QRect]:
    """Where the window and each dock are (the visible area of each dock)."""
    shapes = {"window": QRect(0, 0, window.width(), window.height())}
    for dock in _docks(window):
        shapes[dock.objectName()] = dock.geometry()
        # A dock is on screen only where it lies inside the window.
        assert shapes["window"].contains(dock.geometry()), f"{dock.objectName()} leaves the window"
    return shapes


def _assert_buttons_inside(window: MainWindow) -> None:
    """Every button of every dock is as wide as it asks and inside the dock: never cut at the
    side nor under a sideways scroll bar (below 720 px of height a dock may scroll up and down;
    the screenshot test checks 1280 x 720 whole)."""
    for dock in _docks(window):
        for area in dock.findChildren(QScrollArea):
            assert not area.horizontalScrollBar().isVisible(), f"{dock.objectName()} scrolls"
        for button in dock.findChildren(QAbstractButton):
            if not button.isVisibleTo(dock) or button.parent() is dock:
                continue  # the dock's own title buttons are the style's
            left = button.mapTo(dock, button.rect().topLeft()).x()
            assert left >= 0 and left + button.width() <= dock.width(), (
                f"{button.text()!r} is cut in {dock.objectName()}"
            )
            assert button.width() >= button.minimumSizeHint().width(), (
                f"{button.text()!r} is squeezed in {dock.objectName()}"
            )


def _seed_long_texts(settings: Settings) -> None:
    """A study of 255 characters holding a cine whose name is 500 characters long."""
    _path, media = stored_dicom_cine()
    store = open_local_store(settings)
    try:
        from iamedic_desktop.services.studies import rename_study

        rename_study(store.uow, store.actor, str(media.study_id), LONG_ALIAS)
        rename_media(store.uow, store.actor, media.id, LONG_NAME)
    finally:
        store.close()


def _open_long_study(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.browser.model.total == 1, timeout=LOAD_TIMEOUT_MS)
    study_id = window.browser.model.study_id(0)
    window.browser.open_study(study_id)
    qtbot.waitUntil(lambda: window.current_study is not None, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.browser.media_list.model.rowCount() == 1)


def _settle() -> None:
    """Let the layouts settle: they run on posted events (layout requests), twice over."""
    for _ in range(2):
        QCoreApplication.sendPostedEvents(None, 0)
        QCoreApplication.processEvents()


def test_long_texts_are_elided_and_never_widen_the_window_before_and_after_a_restart(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    _seed_long_texts(settings)
    first = main_window_factory(settings)
    _sized(first, RESTORED)
    with qtbot.waitSignal(first.store_ready, timeout=LOAD_TIMEOUT_MS):
        first.show()
    qtbot.waitExposed(first)
    before = _layout(first)
    assert before["window"].size().toTuple() == RESTORED

    _open_long_study(qtbot, first)
    first.annotation.undo_stack.push(QUndoCommand(LONG_UNDO))
    first.notify("Imported " + LONG_NAME + " into " + LONG_ALIAS)
    qtbot.waitUntil(lambda: first.browser.media_title.toolTip().endswith(LONG_ALIAS + "'"))
    _settle()

    assert _layout(first) == before
    _assert_buttons_inside(first)
    assert first.status.toolTip() == "Imported " + LONG_NAME + " into " + LONG_ALIAS
    undo_tips = [b.toolTip() for b in first.annotation_dock.findChildren(QAbstractButton)]
    assert any(LONG_UNDO in tip for tip in undo_tips), "the long undo label is in a tooltip"
    first.close()

    second = main_window_factory(settings)
    with qtbot.waitSignal(second.store_ready, timeout=LOAD_TIMEOUT_MS):
        second.show()
    qtbot.waitExposed(second)
    qtbot.waitUntil(lambda: second.current_study is not None, timeout=LOAD_TIMEOUT_MS)
    _settle()
    assert _layout(second) == before
    _assert_buttons_inside(second)


def test_deleting_a_long_study_leaves_the_window_as_it_was(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    _seed_long_texts(settings)
    window = main_window_factory(settings)
    _sized(window, SMALL)
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    before = _layout(window)
    _open_long_study(qtbot, window)
    dialog = window.browser.delete_study()
    assert dialog is not None
    with qtbot.waitSignal(window.browser.study_closed, timeout=LOAD_TIMEOUT_MS):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.browser.model.total == 0, timeout=LOAD_TIMEOUT_MS)
    assert _layout(window) == before


def test_a_saved_layout_larger_than_the_screen_is_not_restored(
    qtbot: QtBot, main_window_factory: WindowFactory, isolated_qsettings: Path
) -> None:
    settings = get_settings()
    first = _ready(qtbot, main_window_factory, settings)
    first.resize(3241, 700)  # as a long alias once grew it; the offscreen screen is 800 wide
    first.browser.setMinimumWidth(2570)  # its dock widths are saved with it
    qtbot.waitUntil(lambda: first.browser.width() >= 2570)
    first.close()
    assert window_settings().value("main_window/geometry") is not None

    second = _ready(qtbot, main_window_factory, settings)
    screen = second.screen().availableGeometry()
    assert second.frameGeometry().width() <= screen.width()
    assert second.frameGeometry().height() <= screen.height()
    assert second.browser.isVisible() and second.annotation_dock.isVisible()
    assert second.browser.width() <= DOCK_WIDTH[0]  # the defaults, not the saved 2,570 px


def test_view_reset_layout_brings_back_the_default_layout(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    window = main_window_factory(settings)
    _sized(window, SMALL)
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    default = _layout(window)

    window.annotation_dock.hide()
    window.browser.setFloating(True)
    reset = window.view_menu.actions()
    assert "Reset layout" in [a.text() for a in reset]
    window.window_actions.trigger("reset_layout")
    qtbot.waitUntil(lambda: window.annotation_dock.isVisible() and not window.browser.isFloating())
    _settle()
    assert _layout(window) == default
    assert window.window_actions.actions["reset_layout"].shortcut().toString() == "Ctrl+Shift+0"


def test_at_800_by_600_opening_a_video_does_not_grow_the_window(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    _path, media = stored_dicom_cine()
    window = main_window_factory(settings)
    _sized(window, SMALL)
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    window.open_media(media)
    qtbot.waitUntil(lambda: window.player.shown_frame == 0, timeout=LOAD_TIMEOUT_MS)
    _settle()
    assert window.size().toTuple() == SMALL
    _layout(window)
    _assert_buttons_inside(window)
    # The transport bar wraps onto more rows; the player panel is as tall as they need.
    panel = window.player_panel
    for button in panel.findChildren(QAbstractButton):
        rect = QRect(button.mapTo(panel, button.rect().topLeft()), button.size())
        assert panel.rect().contains(rect), f"{button.text()!r} is cut in the player panel"

    # Made larger again, the docks get their room back rather than staying squeezed.
    window.resize(1500, 780)
    qtbot.waitUntil(lambda: window.browser.width() >= 300 and window.annotation_dock.width() >= 280)
    assert window.review.width() >= 600
