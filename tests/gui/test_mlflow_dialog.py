"""The admin's MLflow dialog on a real registry: versions with aliases and run metrics, a pull
with progress that adopts the champion, the MLflow UI's address handed to the browser, and the
registry gone said in words."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services.models import model_status
from iamedic_desktop.ui.mlflow_dialog import MlflowDialog
from iamedic_desktop.ui.operations import OperationRunner
from tests.support import onnx_models as om
from tests.support.model_registry import CLASSIFIER, registry_uri

pytestmark = [
    pytest.mark.gui,
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning"),
]
WAIT_MS = 60_000


@pytest.fixture
def settings(tmp_path: Path, empty_registry_db: Path) -> Settings:
    """The data folder's registry holding one classifier version, champion."""
    settings = Settings()
    uri = registry_uri(settings, empty_registry_db)
    om.register(uri, CLASSIFIER, om.classifier_model(tmp_path / "c.onnx"))
    return settings


def open_dialog(qtbot: QtBot, settings: Settings, opened: list[QUrl]) -> MlflowDialog:
    runner = OperationRunner()
    dialog = MlflowDialog(runner, settings, open_url=opened.append)
    runner.setParent(dialog)
    qtbot.addWidget(dialog)
    return dialog


def cells(dialog: MlflowDialog, row: int) -> list[str]:
    table = dialog.versions_table
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_versions_metrics_and_a_pull_that_adopts_the_champion(
    qtbot: QtBot, settings: Settings
) -> None:
    opened: list[QUrl] = []
    dialog = open_dialog(qtbot, settings, opened)
    qtbot.waitUntil(lambda: dialog.versions_table.rowCount() == 1, timeout=WAIT_MS)
    assert cells(dialog, 0)[:4] == [CLASSIFIER, "1", "champion", ""]
    metrics = dialog.metrics_table
    assert (metrics.item(0, 0).text(), metrics.item(0, 1).text()) == ("val_accuracy", "0.9")
    assert f"{CLASSIFIER} v1 is the champion: pull to use it" in dialog.status_label.text()

    with qtbot.waitSignal(dialog.pulled, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.pull_button, Qt.MouseButton.LeftButton)
    assert dialog.message_label.text().startswith("Not registered")  # no box model here
    assert dialog.progress_bar.format().startswith(f"Downloading {CLASSIFIER} v1")
    assert model_status(settings).classifier.adopted_version == "1"
    qtbot.waitUntil(lambda: cells(dialog, 0)[3] == "adopted", timeout=WAIT_MS)
    assert f"{CLASSIFIER} v1 in use (champion)" in dialog.status_label.text()
    dialog.close()


def test_an_http_registry_opens_at_its_address_in_the_browser(
    qtbot: QtBot, settings: Settings
) -> None:
    opened: list[QUrl] = []
    dialog = open_dialog(qtbot, settings, opened)
    qtbot.waitUntil(lambda: dialog.versions_table.rowCount() == 1, timeout=WAIT_MS)
    dialog._settings = Settings(mlflow_tracking_uri="https://mlflow.example.org")
    with qtbot.waitSignal(dialog.ui_opened, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.ui_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["https://mlflow.example.org"]
    assert opened == [QUrl("https://mlflow.example.org")]
    dialog.close()


def test_an_unreachable_registry_is_said_and_the_models_here_still_shown(
    qtbot: QtBot, settings: Settings
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = Settings(mlflow_tracking_uri=f"http://127.0.0.1:{port}")
    dialog = open_dialog(qtbot, gone, [])
    qtbot.waitUntil(lambda: "cannot be read" in dialog.message_label.text(), timeout=WAIT_MS)
    assert f"Registry: http://127.0.0.1:{port}" in dialog.status_label.text()
    assert dialog.versions_table.rowCount() == 0
    dialog.close()
