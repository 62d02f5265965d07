"""The Export annotations dialog: kind, date range, filters, folder; the export on a worker.

``services.exports.export_annotations`` runs on the runner it is given (its ``failed`` signal
reaches the window's one notification path), with the dialog's CancelToken; its progress
callback, called on that worker, crosses to the UI thread by a queued signal. The dialog shows
the written file's path and counts, or the failure's message (``describe_failure``). Cancel,
Escape or closing while an export runs stops it: nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.schemas.exports import FORMATS_OF, ExportKind, ExportResult
from iamedic_desktop.services.exports import export_annotations, make_filters
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner, describe_failure

log = logging.getLogger(__name__)

KINDS: list[tuple[ExportKind, str]] = [
    ("classification", "Usefulness labels (CSV)"),
    ("boxes", "Boxes (CSV)"),
    ("coco", "Boxes for training (COCO JSON)"),
    ("yolo", "Boxes for training (YOLO dataset, ZIP)"),
]


class ExportDialog(QDialog):
    """Choose what to export and where; Export writes it on a worker and says where it went."""

    exported = Signal(object)  # ExportResult
    export_failed = Signal(str)  # the message shown
    # Emitted on the worker by the export's progress callback; delivered on the UI thread.
    _progress = Signal(object)

    def __init__(
        self,
        runner: OperationRunner,
        settings: Settings,
        store: LocalStore,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export annotations")
        self.setObjectName("exportDialog")
        self._runner, self._settings, self._store = runner, settings, store
        self._cancel = CancelToken()
        self._running = False
        self.last_result: ExportResult | None = None  # (QDialog.result is the dialog code)

        self.kind = QComboBox(self)
        for kind, text in KINDS:
            self.kind.addItem(text, kind)
        self.all_dates = QCheckBox("All dates", self)
        self.all_dates.setChecked(True)
        today = QDate.currentDate()
        self.start = self._date_edit(today.addMonths(-1))
        self.end = self._date_edit(today)
        self.include_deleted = QCheckBox("Include deleted media and studies", self)
        self.include_hidden = QCheckBox("Include hidden boxes", self)
        self.zip = QCheckBox("ZIP with the media files", self)
        self.folder = QLineEdit(str(Path.home()), self)
        self.choose_button = QPushButton("Choose…", self)
        self.export_button = QPushButton("Export", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.close_button = QPushButton("Close", self)
        self.bar = QProgressBar(self)
        self.message = QLabel("", self, wordWrap=True)
        self.message.setObjectName("exportMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out()
        self.bar.hide()
        self.cancel_button.hide()
        self.export_button.setDefault(True)
        self.all_dates.toggled.connect(self._update)
        self.kind.currentIndexChanged.connect(lambda _i: self._update())
        self.choose_button.clicked.connect(self.choose_folder)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        self._progress.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self._update()

    def _date_edit(self, date: QDate) -> QDateEdit:
        edit = QDateEdit(date, self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _lay_out(self) -> None:
        dates = QHBoxLayout()
        for widget in (self.start, QLabel("to", self), self.end, self.all_dates):
            dates.addWidget(widget)
        folder = QHBoxLayout()
        folder.addWidget(self.folder, 1)
        folder.addWidget(self.choose_button)
        form = QFormLayout()
        form.addRow("Export", self.kind)
        form.addRow("Annotated from", dates)
        form.addRow("", self.include_deleted)
        form.addRow("", self.include_hidden)
        form.addRow("", self.zip)
        form.addRow("Into folder", folder)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.export_button, self.cancel_button, self.close_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Dates are days in UTC, both included; the file is named for them.", self)
        )
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(560, 300)

    @property
    def running(self) -> bool:
        """True from Export until its outcome is shown."""
        return self._running

    def _update(self) -> None:
        kind = self.kind.currentData()
        for edit in (self.start, self.end):
            edit.setEnabled(not self.all_dates.isChecked())
        self.include_hidden.setEnabled(kind != "classification")
        # A YOLO dataset is always a ZIP; the CSV kinds and COCO may carry their media.
        self.zip.setEnabled("zip" in FORMATS_OF[kind] and len(FORMATS_OF[kind]) > 1)
        if kind == "yolo":
            self.zip.setChecked(True)

    def choose_folder(self) -> None:
        """Pick the folder the export goes into."""
        chosen = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def start_export(self) -> None:
        """Read the form and run the export on the runner."""
        if self._running:
            return
        kind: ExportKind = self.kind.currentData()
        start = end = None
        if not self.all_dates.isChecked():
            start, end = _day(self.start.date()), _day(self.end.date())
        try:
            filters = make_filters(
                start,
                end,
                include_deleted=self.include_deleted.isChecked(),
                include_hidden=self.include_hidden.isChecked() and kind != "classification",
            )
        except IamedicError as exc:
            self._say(describe_failure(exc), problem=True)
            return
        fmt = "zip" if self.zip.isChecked() else FORMATS_OF[kind][0]
        self._cancel = CancelToken()
        self._set_running(True)
        self._say("Exporting…")
        store = self._store
        job = functools.partial(
            export_annotations, self._settings, store.uow, store.actor, store.media,
            kind=kind, folder=Path(self.folder.text().strip() or "."), fmt=fmt,
            filters=filters, progress=self._forward_progress, cancel=self._cancel,
        )  # fmt: skip
        log.info("🚀 Export of %s started from the window", kind)
        self._runner.run(job, on_success=self._finished, on_failure=self._failed)

    def _forward_progress(self, progress: Progress) -> None:
        # Worker thread: only a queued signal crosses to the dialog.
        with contextlib.suppress(RuntimeError):  # the dialog is gone; the export goes on
            self._progress.emit(progress)

    def _show_progress(self, progress: Progress) -> None:
        if self._running:
            self.bar.setRange(0, max(progress.total, 1))
            self.bar.setValue(progress.done)

    def cancel(self) -> None:
        """Stop the running export; nothing is written."""
        if self._running and not self._cancel.cancelled:
            self._cancel.cancel()
            self.cancel_button.setEnabled(False)
            self._say("Cancelling…")

    def _finished(self, result: ExportResult) -> None:
        self._set_running(False)
        self.last_result = result
        counts = f"{result.rows} rows, {result.media_count} media, from {result.source}."
        lines = [f"Exported to {result.path}", counts]
        self._say("\n".join([*lines, *result.notes]), ok=True)
        self.exported.emit(result)

    def _failed(self, error: BaseException) -> None:
        self._set_running(False)
        message = describe_failure(error)
        self._say(message, problem=True)
        self.export_failed.emit(message)

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.bar.setVisible(running)
        self.bar.setRange(0, 0)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running)

    def _say(self, text: str, *, problem: bool = False, ok: bool = False) -> None:
        self.message.setText(text)
        color = theme.ERROR if problem else theme.OK if ok else ""
        self.message.setStyleSheet(f"color: {color};" if color else "")

    def reject(self) -> None:
        # Escape or Close while exporting means Cancel; the outcome follows.
        if self._running:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)


def _day(date: QDate) -> dt.date:
    return dt.date(date.year(), date.month(), date.day())
