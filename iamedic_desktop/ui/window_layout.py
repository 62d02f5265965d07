"""The window's layout: a first start that fits the screen, restore only what fits, View -> Reset.

The docks take a share of the window's width up to their useful width, the review area the
rest. A saved geometry larger than the screen (a layout an earlier version let a long alias
widen) is not restored, and neither are the dock widths saved with it. A dock squeezed by a
small window gets its width back when the window is made larger again, since Qt would give
all the new room to the review area.

Threading: UI thread only.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QSplitter

from iamedic_desktop.ui.review_area_widget import PLAYER_HEIGHT
from iamedic_desktop.ui.window_state import WindowState

log = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1500, 900)
FRAME_ALLOWANCE = QSize(8, 40)  # a window manager's borders and title bar, before they are known
# Each dock: where it belongs, its useful width, and its share of a window narrower than that.
DOCK_WIDTH = 420, 300  # study browser (alias and media names), annotation
DOCK_SHARE = 0.26, 0.24


def fits(size: QSize, screen: QRect) -> bool:
    """Whether a window of ``size`` fits the screen's available area."""
    return size.width() <= screen.width() and size.height() <= screen.height()


class WindowLayout(QObject):
    """Docks one main window's docks, lays them out, and restores or resets the layout."""

    def __init__(
        self,
        window: QMainWindow,
        docks: list[tuple[QDockWidget, Qt.DockWidgetArea]],
        splitter: QSplitter,
        state: WindowState,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._docks = docks
        self._splitter = splitter
        self._state = state
        self._laid_out = False  # docks sized once the window is shown
        for dock, area in docks:
            window.addDockWidget(area, dock)
        window.installEventFilter(self)

    def view_menu(self, reset: QAction) -> QMenu:
        """A View menu in the window's menu bar: each dock shown or hidden, and ``reset``."""
        menu = self._window.menuBar().addMenu("&View")
        for dock, _area in self._docks:
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        menu.addAction(reset)
        return menu

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self._window:
            return False
        if event.type() == QEvent.Type.Show:
            self.shown()
        elif isinstance(event, QResizeEvent) and 0 < event.oldSize().width() < event.size().width():
            self.grown()
        return False

    def _screen(self) -> QRect:
        return self._window.screen().availableGeometry()

    def restore(self) -> None:
        """Geometry and docks as saved, when they fit the screen; the defaults otherwise."""
        window = self._window
        if self._state.restore_geometry(window, self._screen()):
            self._laid_out = self._state.restore_layout(window, self._splitter)
        else:
            self._default_geometry()

    def _default_geometry(self) -> None:
        screen = self._screen()
        size = DEFAULT_SIZE.boundedTo(screen.size() - FRAME_ALLOWANCE)
        frame = QRect(0, 0, size.width(), size.height())
        frame.moveCenter(screen.center())
        self._window.setGeometry(frame)
        if size != DEFAULT_SIZE:
            # A small screen: all of it, as the window manager maximises (the size above is
            # what "restore" gives back).
            self._window.setWindowState(Qt.WindowState.WindowMaximized)

    def shown(self) -> None:
        """The window is on screen: a first start gives the docks their widths."""
        if not self._laid_out:
            self._laid_out = True
            self.fit_docks(grow_only=False)

    def grown(self) -> None:
        """The window was made wider: docks squeezed by a smaller window get their room back."""
        if self._laid_out:
            self.fit_docks(grow_only=True)

    def fit_docks(self, *, grow_only: bool) -> None:
        """Docked docks at their useful width, or their share of a narrower window."""
        width = self._window.width()
        docks, widths = [], []
        for (dock, _area), useful, share in zip(self._docks, DOCK_WIDTH, DOCK_SHARE, strict=True):
            if dock.isHidden() or dock.isFloating():
                continue
            target = min(useful, round(width * share))
            if grow_only and dock.width() >= target:
                continue
            docks.append(dock)
            widths.append(max(target, dock.minimumSizeHint().width()))
        if docks:
            self._window.resizeDocks(docks, widths, Qt.Orientation.Horizontal)

    def reset(self) -> None:
        """View -> Reset layout: every dock shown in its place, default widths and split."""
        window = self._window
        if not fits(window.size(), self._screen()):
            self._default_geometry()
        for dock, area in self._docks:
            dock.setFloating(False)
            window.addDockWidget(area, dock)
            dock.show()
        self._splitter.setSizes([max(self._splitter.height() - PLAYER_HEIGHT, 1), PLAYER_HEIGHT])
        self._laid_out = True
        self.fit_docks(grow_only=False)
        log.info("✅ Window layout reset")
