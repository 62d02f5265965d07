"""The AI widgets one at a time: Cancel in the status bar, the automatic frames settings, the
new champion's notice, the version order, Settings → AI's Test, the admin area's buttons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.media.runs import RunsParams
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.models import model_status
from iamedic_desktop.ui.administration_tab import AdministrationTab
from iamedic_desktop.ui.auto_frames_dialog import AutoFramesDialog
from iamedic_desktop.ui.model_notice_widget import ModelNoticeWidget, notice_text
from iamedic_desktop.ui.model_version_picker import version_order
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.settings_ai_tab import SettingsAiTab
from iamedic_desktop.ui.statistics_dialog import StatisticsDialog
from iamedic_desktop.ui.status_bar_widget import StatusBarWidget
from tests.support.inference_service import InferenceService
from tests.support.onnx_models import box_model, classifier_model

pytestmark = pytest.mark.gui


def test_a_cancellable_job_shows_cancel_and_it_is_pressed_once(qtbot: QtBot) -> None:
    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.show()
    pressed: list[bool] = []
    bar.set_progress(0, 0, "Predicting 3 media…", cancel=lambda: pressed.append(True))
    assert bar.cancel_button.isVisible() and bar.progress_bar.maximum() == 0  # busy, no end
    bar.set_progress(1, 3, "Predicting 3 media: head.png", cancel=lambda: pressed.append(True))
    assert (bar.progress_bar.value(), bar.progress_bar.maximum()) == (1, 3)
    qtbot.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)
    assert pressed == [True] and not bar.cancel_button.isEnabled()
    bar.clear_progress()
    assert not bar.cancel_button.isVisible() and not bar.busy
    bar.set_progress(2, 10, "Importing")  # a job without Cancel
    assert not bar.cancel_button.isVisible()


def test_the_automatic_frames_dialog_offers_the_rules_defaults(qtbot: QtBot) -> None:
    dialog = AutoFramesDialog("loop.mp4", RunsParams(0.5, 3, 0.9, 0))
    qtbot.addWidget(dialog)
    assert dialog.params() == RunsParams(0.5, 3, 0.9, 0)  # the last settings, offered again
    dialog.restore_defaults()
    assert dialog.params() == RunsParams()
    dialog.min_run_length.setValue(0)  # the spin box keeps it in range
    dialog.prediction_threshold.setValue(0.97)
    assert dialog.params() == RunsParams(prediction_threshold=0.97, min_run_length=1)


def test_versions_are_listed_champion_first_then_newest() -> None:
    versions = ["boxes - 2", "boxes - 10", "boxes - 3", "boxes - 2"]
    assert version_order(versions, ["boxes - 3"]) == ["boxes - 3", "boxes - 10", "boxes - 2"]
    assert version_order(versions, []) == ["boxes - 10", "boxes - 3", "boxes - 2"]


def test_the_notice_names_the_new_champion(qtbot: QtBot) -> None:
    status = model_status(get_settings())
    assert notice_text(status) is None  # nothing offered on a fresh install
    offered = status.model_copy(
        update={"classifier": status.classifier.model_copy(update={"new_champion_version": "4"})}
    )
    assert notice_text(offered) == "frame_classifier_224x224 v4 is the new champion"
    notice = ModelNoticeWidget()
    qtbot.addWidget(notice)
    notice.offer(notice_text(offered))
    assert not notice.isHidden()
    assert notice.label.text() == "frame_classifier_224x224 v4 is the new champion"
    notice.offer(None)
    assert notice.isHidden()


@pytest.fixture(name="runner")
def runner_fixture(qtbot: QtBot) -> Iterator[OperationRunner]:
    runner = OperationRunner()
    yield runner
    qtbot.waitUntil(runner.is_idle)
    runner.shutdown()


def test_settings_ai_test_says_what_the_local_registry_holds(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    tab = SettingsAiTab(get_settings(), runner=runner)
    qtbot.addWidget(tab)
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.test_button.isEnabled() and tab.result.text() != "Testing…")
    assert tab.result.text().startswith("No model is registered yet in the MLflow registry")


def test_settings_ai_test_asks_the_http_services(
    qtbot: QtBot, runner: OperationRunner, tmp_path: Path
) -> None:
    classifier = InferenceService("classifier", classifier_model(tmp_path / "c.onnx")).start()
    boxes = InferenceService("boxes", box_model(tmp_path / "b.onnx"), version=3).start()
    try:
        tab = SettingsAiTab(get_settings(), runner=runner)
        qtbot.addWidget(tab)
        tab.inference.setCurrentIndex(tab.inference.findData("http"))
        tab.classifier_url.setText(classifier.url)
        tab.box_url.setText(boxes.url)
        qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.test_button.isEnabled() and tab.result.text() != "Testing…")
        text = tab.result.text()
        assert classifier.model_version in text and boxes.model_version in text
        classifier.stop()
        qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.test_button.isEnabled() and tab.result.text() != "Testing…")
        assert tab.result.text().startswith("Not reached:")
        assert classifier.url.split("//")[1] in tab.result.text()
    finally:
        classifier.stop()
        boxes.stop()


@pytest.fixture(name="store")
def store_fixture() -> Iterator[LocalStore]:
    store = open_local_store(get_settings())
    yield store
    store.close()


def test_the_admin_area_opens_the_statistics(
    qtbot: QtBot, runner: OperationRunner, store: LocalStore
) -> None:
    settings: Settings = get_settings()
    tab = AdministrationTab(runner, settings, store=store)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.mouseClick(tab.statistics_button, Qt.MouseButton.LeftButton)
    dialog = tab.statistics_dialog
    assert isinstance(dialog, StatisticsDialog) and dialog.isVisible()
    qtbot.mouseClick(tab.statistics_button, Qt.MouseButton.LeftButton)
    assert tab.statistics_dialog is dialog  # raised again, not a second one
    qtbot.waitUntil(runner.is_idle, timeout=20_000)
    dialog.close()
    qtbot.waitUntil(lambda: tab.statistics_dialog is None)
