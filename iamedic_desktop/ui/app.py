"""Starting the window: the QApplication, the theme, the main window and the event loop."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.theme import apply_theme
from iamedic_desktop.ui.window_state import QSETTINGS_APPLICATION, QSETTINGS_ORGANISATION

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)


def resources_dir() -> Path:
    """The ``resources`` folder: inside a PyInstaller bundle, or beside the package."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def run_gui(settings: Settings) -> int:
    """Show the main window and run the event loop until it closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(QSETTINGS_ORGANISATION)
    app.setApplicationName(QSETTINGS_APPLICATION)
    apply_theme(app)
    # Read once before the event loop starts, never while the user works.
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "iamedic.svg")))
    window = MainWindow(settings)
    window.show()
    log.info("🚀 IAMEDIC Workstation window open (data in %s)", settings.data_dir)
    try:
        return app.exec()
    finally:
        from iamedic_desktop.ml.mlflow_server import stop_server  # light: no mlflow import

        stop_server()  # the local MLflow UI server an admin may have started
