"""The main window: a composition root that wires the panels, the status bar and the store."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QWidget

from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import list_studies
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.study_list_widget import StudyListWidget

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)

WINDOW_TITLE = "IAMEDIC Workstation"
QSETTINGS_ORGANISATION = "IAMEDIC"
QSETTINGS_APPLICATION = "Workstation"
DEFAULT_SIZE = (1100, 700)
STUDY_PANEL_WIDTH = 380
NOTICE_MS = 8000


def window_settings() -> QSettings:
    """Where window geometry and other view state live (never clinical data)."""
    return QSettings(QSETTINGS_ORGANISATION, QSETTINGS_APPLICATION)


class MainWindow(QMainWindow):
    """Opens the local store off the UI thread, then shows the local user's studies."""

    store_ready = Signal()
    notified = Signal(str)  # every message shown to the user, for tests and later a log panel

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._store: LocalStore | None = None
        # Filled and emptied on the worker thread only: a store opened while the window
        # closes is still closed.
        self._opened_stores: list[LocalStore] = []
        self.setWindowTitle(WINDOW_TITLE)
        # One worker thread: every local-store call runs there, in order (the database executor).
        self._database = OperationRunner(self, max_threads=1)
        self._database.failed.connect(self.notify_error)

        self.studies = StudyListWidget(self._database, self)
        # The review area comes later; until then the dark space says what will be there.
        self._viewer = QLabel(
            "Select a study to review its scans",
            objectName="viewerPlaceholder",
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        self._splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self._splitter.addWidget(self.studies)
        self._splitter.addWidget(self._viewer)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setSizes([STUDY_PANEL_WIDTH, DEFAULT_SIZE[0] - STUDY_PANEL_WIDTH])
        self.setCentralWidget(self._splitter)
        self._mode = QLabel("Local mode", objectName="modeIndicator")
        self._mode.setToolTip(f"Embedded store in {settings.data_dir}; not connected centrally")
        self.statusBar().addPermanentWidget(self._mode)

        self._restore_geometry()
        self.statusBar().showMessage("Opening the local store…")
        self._database.run(self._open_store, on_success=self._store_opened)

    @property
    def store(self) -> LocalStore | None:
        """The open local store, once it is ready."""
        return self._store

    @property
    def mode_indicator(self) -> QLabel:
        """The status bar's permanent "Local mode" label."""
        return self._mode

    def _open_store(self) -> LocalStore:
        # Worker thread: creates or upgrades the store (migrations) and the local user.
        store = open_local_store(self._settings)
        self._opened_stores.append(store)
        return store

    def _close_stores(self) -> None:
        # Worker thread, last task: closing may checkpoint the WAL.
        while self._opened_stores:
            self._opened_stores.pop().close()

    def _store_opened(self, store: LocalStore) -> None:
        self._store = store
        self._mode.setText(f"Local mode · {store.actor.name}")
        self.studies.set_source(functools.partial(list_studies, store.uow, store.actor))
        self.notify("Local store ready")
        self.store_ready.emit()

    def notify(self, message: str) -> None:
        """Show a passing message in the status bar."""
        self.statusBar().showMessage(message, NOTICE_MS)
        self.notified.emit(message)

    def notify_error(self, message: str, error: BaseException | None = None) -> None:
        """The one path every failure takes: logged with its cause, shown in the status bar."""
        log.error("❌ %s", message, exc_info=error)
        text = f"Error: {message}"
        self.statusBar().showMessage(text)
        self.notified.emit(text)

    def _restore_geometry(self) -> None:
        state = window_settings()
        splitter = state.value("main_window/splitter")
        if isinstance(splitter, QByteArray):
            self._splitter.restoreState(splitter)
        geometry = state.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            return
        self.resize(*DEFAULT_SIZE)

    def closeEvent(self, event: QCloseEvent) -> None:
        state = window_settings()
        state.setValue("main_window/geometry", self.saveGeometry())
        state.setValue("main_window/splitter", self._splitter.saveState())
        self._store = None
        self._database.shutdown(last=self._close_stores)
        super().closeEvent(event)
