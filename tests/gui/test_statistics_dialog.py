"""The model statistics dialog on a real store: the numbers shown, and a threshold changing them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QTableWidgetItem
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.administration import at_admin_target
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.statistics_dialog import StatisticsDialog
from tests.factories import (
    BOX_MODEL_VERSION,
    CLASSIFIER_VERSION,
    make_box,
    make_box_prediction,
    make_classification_prediction,
    make_doctor,
    make_media,
    make_study,
    make_usefulness,
    seeding,
)
from tests.support.sync_world import sign_in_store

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner()
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


def _seed(store: LocalStore) -> None:
    with seeding(store.uow) as session:
        study = make_study(session, make_doctor(session, email="doc@example.org"))
        # 0.9/1 TP, 0.8/1 TP, 0.7/0 FP, 0.2/1 FN: precision 2/3, recall 2/3, accuracy 2/4.
        for probability, label in [(0.9, 1), (0.8, 1), (0.7, 0), (0.2, 1)]:
            media = make_media(session, study)
            make_classification_prediction(session, media, prediction=probability)
            make_usefulness(session, media, label)
        image = make_media(session, study)
        make_box(session, image, bb_class="CM", box=(0.0, 0.0, 10.0, 10.0))
        make_box_prediction(session, image, bb_class="CM", confidence=0.9, box=(0, 0, 10, 10))
        make_box(session, image, bb_class="NT", box=(0.0, 0.0, 10.0, 10.0))
        # IoU 60/140 = 0.43: missed at IoU 0.5, found at 0.4.
        make_box_prediction(session, image, bb_class="NT", confidence=0.8, box=(4, 0, 10, 10))


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    _seed(opened)
    yield opened
    opened.close()


def _run(runner: OperationRunner, store: LocalStore) -> Callable[..., None]:
    # As the Administration tab runs its operations: on its runner, at the admin's target.
    def run(work: Any, on_success: Any, on_failure: Any) -> None:
        runner.run(
            functools.partial(at_admin_target, get_settings(), store, work),
            on_success=on_success,
            on_failure=on_failure,
        )

    return run


def _dialog(qtbot: QtBot, runner: OperationRunner, store: LocalStore) -> StatisticsDialog:
    dialog = StatisticsDialog(_run(runner, store))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.computed, timeout=10_000):
        dialog.show()
    return dialog


def _column(dialog: StatisticsDialog, table_name: str, column: int) -> list[str]:
    table = getattr(dialog, table_name)
    return [_text(table.item(row, column)) for row in range(table.rowCount())]


def _text(item: QTableWidgetItem | None) -> str:
    assert item is not None
    return item.text()


def _box_row(dialog: StatisticsDialog, bb_class: str) -> list[str]:
    row = _column(dialog, "box_table", 0).index(bb_class)
    return [_text(dialog.box_table.item(row, c)) for c in range(dialog.box_table.columnCount())]


def test_the_numbers_are_shown(
    qtbot: QtBot, runner: OperationRunner, store: LocalStore, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, runner, store)
    assert dialog.where_label.text() == "Read from: This workstation"
    versions = [dialog.version_list.item(i).text() for i in range(dialog.version_list.count())]
    assert versions == [BOX_MODEL_VERSION, CLASSIFIER_VERSION]
    dialog.select_version(CLASSIFIER_VERSION)
    assert _column(dialog, "metrics_table", 1) == ["0.500", "0.667", "0.667", "0.667", "4 / 4"]
    assert _column(dialog, "confusion_table", 1) == ["2", "1"]  # TP, FP
    assert _column(dialog, "confusion_table", 2) == ["1", "0"]  # FN, TN
    assert dialog.confusion_plot.cells() == ((2, 1), (1, 0))
    assert dialog.ap_chart.values() == []
    dialog.select_version(BOX_MODEL_VERSION)
    assert _column(dialog, "metrics_table", 1) == ["–"] * 5
    assert dialog.confusion_plot.cells() is None
    assert _box_row(dialog, "CM") == ["CM", "1", "1", "0", "0", "1.000"]
    assert _box_row(dialog, "NT") == ["NT", "1", "0", "1", "1", "0.000"]
    assert _box_row(dialog, "IT") == ["IT", "0", "0", "0", "0", "n/a"]
    assert dialog.map_label.text() == "Boxes — mAP: 0.500"
    assert dialog.ap_chart.values()[:3] == [("CM", 1.0), ("IT", None), ("NT", 0.0)]
    assert not dialog.grab().isNull()  # both plots and the tables paint
    dialog.grab().save(str(tmp_path / "statistics.png"))


def test_changing_the_iou_threshold_changes_the_numbers(
    qtbot: QtBot, runner: OperationRunner, store: LocalStore
) -> None:
    dialog = _dialog(qtbot, runner, store)
    dialog.select_version(BOX_MODEL_VERSION)
    with qtbot.waitSignal(dialog.computed, timeout=10_000):
        dialog.iou_spin.setValue(0.4)
    assert dialog.report is not None and dialog.report.request.iou_threshold == 0.4
    assert dialog.selected_version() == BOX_MODEL_VERSION  # the selection stays
    assert _box_row(dialog, "NT") == ["NT", "1", "1", "0", "0", "1.000"]
    assert dialog.map_label.text() == "Boxes — mAP: 1.000"
    assert ("NT", 1.0) in dialog.ap_chart.values()
    # The classification threshold too: at 0.75 the 0.7 is no longer a false alarm.
    dialog.select_version(CLASSIFIER_VERSION)
    with qtbot.waitSignal(dialog.computed, timeout=10_000):
        dialog.threshold_spin.setValue(0.75)
    assert dialog.confusion_plot.cells() == ((2, 1), (0, 1))
    assert _column(dialog, "metrics_table", 1)[1] == "1.000"  # precision 2/2


def test_quick_changes_show_the_last_one_only(
    qtbot: QtBot, runner: OperationRunner, store: LocalStore
) -> None:
    dialog = _dialog(qtbot, runner, store)
    shown: list[float] = []
    dialog.computed.connect(lambda: shown.append(_iou(dialog)))
    dialog.iou_spin.setValue(0.4)
    dialog.compute()
    dialog.iou_spin.setValue(0.9)
    dialog.compute()  # the 0.4 answer arrives overtaken and is dropped
    qtbot.waitUntil(lambda: shown == [0.9])
    qtbot.waitUntil(runner.is_idle)
    assert shown == [0.9]
    dialog.select_version(BOX_MODEL_VERSION)
    assert _box_row(dialog, "CM")[2] == "1"


def _iou(dialog: StatisticsDialog) -> float:
    assert dialog.report is not None
    return dialog.report.request.iou_threshold


def test_a_doctor_reads_the_refusal(
    qtbot: QtBot, runner: OperationRunner, store: LocalStore
) -> None:
    sign_in_store(get_settings(), "doc@example.org")
    doctor_store = open_local_store(get_settings())
    try:
        dialog = _dialog(qtbot, runner, doctor_store)
        assert "needs an administrator" in dialog.message_label.text()
        assert dialog.version_list.count() == 0
    finally:
        qtbot.waitUntil(runner.is_idle)
        doctor_store.close()
