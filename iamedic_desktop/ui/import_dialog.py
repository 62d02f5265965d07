"""The import dialog: one import on a worker, its progress, Cancel, and then its summary;
and ``StudyImporter``, which starts imports (from file pickers, drops or the window).

``services.imports.import_paths`` runs on the runner it is given (a worker: an import takes
minutes), with its own units of work; its progress callback, called on that worker, is
forwarded to the UI thread by a queued signal. Cancel sets the import's CancelToken: the file
being converted stops, what was imported stays. The summary says what came in, what the study
already held, and which files were refused and why (a table), with the import's warnings.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.schemas.imports import ImportReport
from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.ui.operations import OperationRunner, describe_failure

log = logging.getLogger(__name__)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def summary_lines(report: ImportReport) -> list[str]:
    """The summary of an import in a clinician's words, one line per fact."""
    lines = [
        f"Imported {_plural(len(report.imported), 'file')} into '{report.study_alias}'."
        if not report.cancelled
        else f"Import cancelled: {_plural(len(report.imported), 'file')} imported, "
        f"{_plural(len(report.not_reached), 'file')} not reached."
    ]
    if report.duplicates:
        names = ", ".join(Path(d.path).name for d in report.duplicates[:5])
        more = "…" if len(report.duplicates) > 5 else ""
        lines.append(
            f"{_plural(len(report.duplicates), 'file')} already in the study, not imported "
            f"again: {names}{more}"
        )
    if report.refused:
        lines.append(f"{_plural(len(report.refused), 'file')} refused (see below).")
    if report.skipped:
        lines.append(
            f"{_plural(len(report.skipped), 'item')} skipped (hidden, or links to folders)."
        )
    return lines


class ImportDialog(QDialog):
    """Imports ``paths`` into ``study`` on ``runner``; shows progress, then the summary."""

    import_finished = Signal(object)  # ImportReport
    import_failed = Signal(str)  # the message shown
    # Emitted on the worker by the import's progress callback; delivered on the UI thread.
    _progress = Signal(object)

    def __init__(
        self,
        runner: OperationRunner,
        store: LocalStore,
        study: StudyDTO,
        paths: Sequence[Path],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._store = store
        self._study = study
        self._paths = list(paths)
        self._cancel = CancelToken()
        self._running = False
        self.report: ImportReport | None = None
        self.setWindowTitle(f"Import into '{study.alias}'")
        self.setModal(True)

        what = self._paths[0].name if len(self._paths) == 1 else _plural(len(self._paths), "item")
        self.heading = QLabel(f"Importing {what} into '{study.alias}'…", wordWrap=True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy until the files are counted
        self.current = QLabel("Looking at the files…", objectName="panelCount", wordWrap=True)
        self.summary = QLabel("", wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refused_table = QTableWidget(0, 2, self)
        self.refused_table.setHorizontalHeaderLabels(["File", "Reason"])
        self.refused_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.refused_table.setWordWrap(True)
        self.refused_table.verticalHeader().hide()
        header = self.refused_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 200)
        # Wrapped reasons need the final column width: fit the rows whenever it changes.
        header.sectionResized.connect(lambda *_: self.refused_table.resizeRowsToContents())
        self.warnings = QLabel("", wordWrap=True, objectName="importWarnings")
        self.cancel_button = QPushButton("Cancel", self)
        self.close_button = QPushButton("Close", self)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.accept)
        for widget in (self.summary, self.refused_table, self.warnings, self.close_button):
            widget.hide()

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.bar)
        layout.addWidget(self.current)
        layout.addWidget(self.summary)
        layout.addWidget(self.refused_table, 1)
        layout.addWidget(self.warnings)
        layout.addLayout(buttons)
        self.resize(560, 200)
        self._progress.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        """True from ``start`` until the import's outcome is shown."""
        return self._running

    @property
    def study(self) -> StudyDTO:
        """The study the files go into."""
        return self._study

    def start(self) -> None:
        """Begin the import on the runner (call once)."""
        self._running = True
        store = self._store
        job = functools.partial(
            import_paths,
            store.uow,
            store.actor,
            store.media,
            str(self._study.id),
            self._paths,
            settings=store.settings,
            progress=self._forward_progress,
            cancel=self._cancel,
        )
        log.info("🚀 Import of %d path(s) into '%s' started", len(self._paths), self._study.alias)
        self._runner.run(job, on_success=self._finished, on_failure=self._failed)

    def _forward_progress(self, progress: Progress) -> None:
        # Worker thread: only a queued signal crosses to the dialog.
        with contextlib.suppress(RuntimeError):  # the dialog is gone; the import goes on
            self._progress.emit(progress)

    def _show_progress(self, progress: Progress) -> None:
        if not self._running:
            return
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done)
        if progress.done < progress.total and not self._cancel.cancelled:
            self.current.setText(f"{progress.done + 1} of {progress.total}: {progress.message}")

    def cancel(self) -> None:
        """Stop after (or during) the current file; the summary follows."""
        if not self._running or self._cancel.cancelled:
            return
        self._cancel.cancel()
        self.cancel_button.setEnabled(False)
        self.current.setText("Cancelling… the file in progress is abandoned.")
        log.info("🔧 Import into '%s' cancelled by the user", self._study.alias)

    def _finished(self, report: ImportReport) -> None:
        self._running = False
        self.report = report
        self.heading.setText(
            "Import cancelled" if report.cancelled else f"Import into '{report.study_alias}' done"
        )
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.current.hide()
        self.summary.setText("\n".join(summary_lines(report)))
        self.summary.show()
        self.refused_table.setRowCount(len(report.refused))
        for row, refusal in enumerate(report.refused):
            name = QTableWidgetItem(Path(refusal.path).name)
            name.setToolTip(refusal.path)
            reason = QTableWidgetItem(refusal.reason)
            reason.setToolTip(refusal.reason)
            self.refused_table.setItem(row, 0, name)
            self.refused_table.setItem(row, 1, reason)
        self.refused_table.resizeRowsToContents()
        self.refused_table.setVisible(bool(report.refused))
        if report.warnings:
            self.warnings.setText("Warnings:\n" + "\n".join(f"- {w}" for w in report.warnings))
            self.warnings.show()
        self._show_close()
        if report.refused:
            self.resize(max(self.width(), 640), max(self.height(), 380))
        self.import_finished.emit(report)

    def _failed(self, error: BaseException) -> None:
        self._running = False
        message = describe_failure(error)
        self.heading.setText("The import stopped")
        self.bar.setRange(0, 1)
        self.current.setText(message)
        self._show_close()
        self.import_failed.emit(message)

    def _show_close(self) -> None:
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)
        self.close_button.setFocus()

    def reject(self) -> None:
        # Escape or the title bar's close while importing means Cancel; the summary follows.
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


class StudyImporter(QObject):
    """Starts imports into a study: file pickers, the checks, one ImportDialog at a time."""

    imported = Signal(object)  # ImportReport, once an import ends
    failed = Signal(str, object)  # why an import could not start

    def __init__(self, runner: OperationRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self._runner = runner
        self._parent = parent
        self.dialog: ImportDialog | None = None

    def choose_files(self, store: LocalStore | None, study: StudyDTO | None) -> None:
        """Pick files (a file dialog) and import them into ``study``."""
        if study is not None:
            title = f"Import files into '{study.alias}'"
            names, _ = QFileDialog.getOpenFileNames(self._parent, title)
            self.import_paths(store, study, [Path(name) for name in names])

    def choose_folder(self, store: LocalStore | None, study: StudyDTO | None) -> None:
        """Pick a folder (a file dialog) and import it, subfolders included, into ``study``."""
        if study is not None:
            title = f"Import a folder into '{study.alias}'"
            name = QFileDialog.getExistingDirectory(self._parent, title)
            self.import_paths(store, study, [Path(name)] if name else [])

    def import_paths(
        self, store: LocalStore | None, study: StudyDTO | None, paths: Sequence[Path]
    ) -> ImportDialog | None:
        """Open an ImportDialog importing ``paths`` into ``study`` (or say why not)."""
        if not paths:
            return None
        if store is None:
            self.failed.emit("The store is still opening; import again in a moment.", None)
            return None
        if study is None:
            self.failed.emit("Select or create a study first, then import into it.", None)
            return None
        if self.dialog is not None and self.dialog.running:
            self.failed.emit("An import is already running; wait for it to finish.", None)
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()  # the previous summary, closed by now
        dialog = ImportDialog(self._runner, store, study, paths, self._parent)
        dialog.import_finished.connect(self.imported)
        self.dialog = dialog
        dialog.open()
        dialog.start()
        return dialog


def dropped_paths(data: QMimeData) -> list[Path]:
    """The local files and folders a drag carries."""
    return [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
