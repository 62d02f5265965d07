"""Model statistics in the window: per model version, the classifier's metrics and confusion
matrix, and the box model's per-class TP/FP/FN and AP with the mAP, as tables and two plots.

Opened from the Administration tab like the audit log, with the tab's ``run`` (an operation at
the admin's target, ``services.administration.at_admin_target``): the central database when it
is configured and reachable, else this workstation. Every change of a threshold or of "count
hidden boxes" computes again on a worker; a result that a later change has overtaken is dropped
(latest wins), and a closed dialog drops whatever is still on its way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.schemas.statistics import ModelVersionStatisticsDTO, StatisticsReportDTO
from iamedic_desktop.services.admin_target import AdminTarget
from iamedic_desktop.services.statistics import statistics_at, statistics_request
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import describe_failure
from iamedic_desktop.ui.statistics_plots import ApBarChartWidget, ConfusionMatrixWidget

Run = Callable[[Callable[[AdminTarget], Any], Callable[[Any], None],
                Callable[[BaseException], None]], None]  # fmt: skip
RECOMPUTE_DELAY_MS = 200  # a spin box held down asks once, not at every step
METRIC_ROWS = ("Accuracy", "Precision", "Recall", "F1", "Labelled / scored media")
BOX_COLUMNS = ("Class", "Truths", "TP", "FP", "FN", "AP")


def ratio(value: float | None) -> str:
    """A ratio as three decimals, or n/a."""
    return "n/a" if value is None else f"{value:.3f}"


def _table(name: str, rows: int, headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(rows, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


def _fit_rows(table: QTableWidget) -> None:
    """As tall as its rows: the small tables show every row without a scroll bar."""
    table.resizeRowsToContents()
    frame = 2 * table.frameWidth()
    table.setFixedHeight(
        table.horizontalHeader().sizeHint().height() + table.verticalHeader().length() + frame
    )


W = TypeVar("W", bound=QWidget)


def _named(widget: W, name: str) -> W:
    widget.setObjectName(name)
    return widget


def _spin(name: str, value: float, minimum: float) -> QDoubleSpinBox:
    spin = _named(QDoubleSpinBox(), name)
    spin.setDecimals(2)
    spin.setSingleStep(0.05)
    spin.setRange(minimum, 1.0)
    spin.setValue(value)
    spin.setKeyboardTracking(False)  # typing "0.35" asks once, at the end
    return spin


class StatisticsDialog(QDialog):
    """Thresholds, the model versions found, and the selected version's tables and plots."""

    computed = Signal()  # a report is shown, or its computation was refused

    def __init__(self, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model statistics")
        self.setObjectName("statisticsDialog")
        self._run_at_target = run
        self._generation = 0
        self.report: StatisticsReportDTO | None = None
        self.threshold_spin = _spin("statsThreshold", 0.5, 0.0)
        self.confidence_spin = _spin("statsConfidence", 0.5, 0.0)
        self.iou_spin = _spin("statsIou", 0.5, 0.05)
        self.hidden_check = _named(QCheckBox("Count hidden boxes"), "statsHidden")
        self.where_label = _named(QLabel(""), "statsWhere")
        self.message_label = _named(QLabel(""), "statsMessage")
        self.message_label.setWordWrap(True)
        self.where_label.setWordWrap(True)
        self.version_list = _named(QListWidget(), "statsVersions")
        self.metrics_table = _table("statsMetrics", len(METRIC_ROWS), ("Metric", "Value"))
        for row, name in enumerate(METRIC_ROWS):
            self.metrics_table.setItem(row, 0, QTableWidgetItem(name))
        self.confusion_table = _table("statsConfusion", 2, ("", "Predicted useful",
                                                           "Predicted not useful"))  # fmt: skip
        for row, name in enumerate(("Labelled useful", "Labelled not useful")):
            self.confusion_table.setItem(row, 0, QTableWidgetItem(name))
        _fit_rows(self.metrics_table)
        _fit_rows(self.confusion_table)
        self.box_table = _table("statsBoxes", 0, BOX_COLUMNS)
        # Class names ("nasal bone") read whole; the counts share what is left.
        self.box_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.map_label = _named(QLabel("mAP: n/a"), "statsMap")
        self.confusion_plot = ConfusionMatrixWidget(self)
        self.ap_chart = ApBarChartWidget(self)
        self._timer = QTimer(self, singleShot=True, interval=RECOMPUTE_DELAY_MS)
        self._lay_out()
        self._wire()
        self.resize(1150, 720)
        self.compute()

    def _lay_out(self) -> None:
        form = QHBoxLayout()
        thresholds = QFormLayout()
        thresholds.addRow("Useful when probability above", self.threshold_spin)
        thresholds.addRow("Box confidence at least", self.confidence_spin)
        thresholds.addRow("IoU at least", self.iou_spin)
        form.addLayout(thresholds)
        form.addWidget(self.hidden_check, 0, Qt.AlignmentFlag.AlignBottom)
        form.addStretch(1)
        details = QWidget(self)
        grid = QGridLayout(details)
        grid.addWidget(QLabel("Classification"), 0, 0)
        grid.addWidget(self.metrics_table, 1, 0)
        grid.addWidget(self.confusion_table, 2, 0)
        grid.addWidget(self.confusion_plot, 1, 1, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.addWidget(self.map_label, 3, 0)
        grid.addWidget(self.box_table, 4, 0)
        grid.addWidget(self.ap_chart, 4, 1)
        grid.setRowStretch(4, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.version_list)
        splitter.addWidget(details)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 890])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)  # Enter in a threshold box applies it, never closes
        close.setDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where_label)
        layout.addLayout(form)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message_label)
        layout.addWidget(buttons)

    def _wire(self) -> None:
        self._timer.timeout.connect(self.compute)
        for spin in (self.threshold_spin, self.confidence_spin, self.iou_spin):
            spin.valueChanged.connect(lambda _value: self._timer.start())
        self.hidden_check.toggled.connect(lambda _on: self._timer.start())
        self.version_list.currentRowChanged.connect(lambda _row: self._show_selected())

    # --- computing ----------------------------------------------------------------------------

    def compute(self) -> None:
        """Compute again with the thresholds as they are now (read here, on the UI thread)."""
        self._timer.stop()
        request = statistics_request(
            self.threshold_spin.value(),
            self.confidence_spin.value(),
            self.iou_spin.value(),
            self.hidden_check.isChecked(),
        )
        self._generation += 1
        generation = self._generation
        self._say("Computing…")

        def alive(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            # Closed dialog, or overtaken by a later change: the answer is dropped.
            def deliver(value: Any) -> None:
                if shiboken6.isValid(self) and generation == self._generation:
                    callback(value)

            return deliver

        work = functools.partial(statistics_at, request)
        self._run_at_target(work, alive(self._shown), alive(self._refused))

    def _shown(self, result: tuple[str, StatisticsReportDTO]) -> None:
        report = result[1]
        self.report = report
        self.where_label.setText(f"Read from: {report.where[:1].upper()}{report.where[1:]}")
        selected = self.selected_version()
        self.version_list.blockSignals(True)
        self.version_list.clear()
        self.version_list.addItems([v.model_version for v in report.versions])
        names = [v.model_version for v in report.versions]
        row = names.index(selected) if selected in names else 0 if names else -1
        self.version_list.setCurrentRow(row)
        self.version_list.blockSignals(False)
        self._show_selected()
        self._say("" if names else "No predictions on the active media of active studies.")
        self.computed.emit()

    def _refused(self, error: BaseException) -> None:
        self._say(describe_failure(error), problem=True)
        self.computed.emit()

    # --- showing ------------------------------------------------------------------------------

    def selected_version(self) -> str | None:
        """The model version whose numbers are shown."""
        item = self.version_list.currentItem()
        return item.text() if item is not None else None

    def select_version(self, name: str) -> None:
        """Show this model version's numbers."""
        items = self.version_list.findItems(name, Qt.MatchFlag.MatchExactly)
        if items:
            self.version_list.setCurrentItem(items[0])

    def _version(self) -> ModelVersionStatisticsDTO | None:
        name = self.selected_version()
        versions = self.report.versions if self.report is not None else []
        return next((v for v in versions if v.model_version == name), None)

    def _show_selected(self) -> None:
        version = self._version()
        stats = version.classification if version is not None else None
        values = (
            [ratio(stats.accuracy), ratio(stats.precision), ratio(stats.recall),
             ratio(stats.f1), f"{stats.labelled} / {stats.scored}"]
            if stats is not None else ["–"] * len(METRIC_ROWS)
        )  # fmt: skip
        for row, text in enumerate(values):
            self.metrics_table.setItem(row, 1, QTableWidgetItem(text))
        counts = ((stats.tp, stats.fn), (stats.fp, stats.tn)) if stats is not None else None
        for row in range(2):
            for column in range(2):
                text = str(counts[row][column]) if counts is not None else "–"
                self.confusion_table.setItem(row, column + 1, QTableWidgetItem(text))
        if stats is not None:
            self.confusion_plot.set_counts(stats.tp, stats.fp, stats.fn, stats.tn)
        else:
            self.confusion_plot.clear()
        self._show_boxes(version)

    def _show_boxes(self, version: ModelVersionStatisticsDTO | None) -> None:
        boxes = version.boxes if version is not None else None
        classes = boxes.classes if boxes is not None else []
        self.box_table.setRowCount(len(classes))
        for row, c in enumerate(classes):
            cells = (c.bb_class, str(c.truths), str(c.tp), str(c.fp), str(c.fn), ratio(c.ap))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.box_table.setItem(row, column, item)
        self.map_label.setText(
            f"Boxes — mAP: {ratio(boxes.map)}" if boxes else "No box predictions"
        )
        self.ap_chart.set_values([(c.bb_class, c.ap) for c in classes])

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(f"color: {theme.ERROR};" if problem else "")
