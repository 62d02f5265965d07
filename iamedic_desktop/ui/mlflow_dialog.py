"""The MLflow registry for admins: models, versions, aliases, run metrics; pull; the MLflow UI.

Opened from the Administration tab (Models (MLflow)…). On opening it reads, on a worker, what
this workstation uses and the registry's models (an admin check at the admin's target); the
versions table marks each version's aliases and whether it is adopted or cached here; selecting
a version shows its run's metrics and parameters. "Pull champion models" downloads and adopts
the alias's versions with a progress bar and Cancel; "Open MLflow UI" starts the local MLflow
server when the registry is the data folder's (on a worker), then opens the browser.

Threading: registry reads, the pull and the server start run on the dialog's own operation
runner (a pull can take minutes and must not hold the tab's); closing the dialog cancels a pull
and waits for it to stop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
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
from iamedic_desktop.services import models as model_service
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner, describe_failure

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.models import ModelsStatusDTO, RegistryOverviewDTO, RunVersionDTO
    from iamedic_desktop.services.admin_target import AdminTarget
    from iamedic_desktop.services.local_store import LocalStore

VERSION_HEADERS = ("Model", "Version", "Aliases", "Here", "Run")


def _overview(settings: Settings, store: LocalStore | None) -> tuple[Any, Any]:
    """The status and the registry's overview (the admin check at the admin's target)."""
    from iamedic_desktop.services.administration import at_admin_target

    def work(target: AdminTarget) -> RegistryOverviewDTO:
        return model_service.registry_overview(settings, target.uow, target.actor)

    status = model_service.check_models(settings)
    return status, at_admin_target(settings, store, work)[1]


class MlflowDialog(QDialog):
    """Registered models and versions with run metrics, Pull champion models, Open MLflow UI."""

    loaded = Signal()  # the overview is shown (or its failure)
    pulled = Signal()  # a pull ended (done, cancelled or failed)
    ui_opened = Signal(str)  # the MLflow UI's address, handed to the browser
    _progress = Signal(int, int, str)  # emitted on a worker, queued to the UI thread

    def __init__(
        self,
        runner: OperationRunner,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        store: LocalStore | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models (MLflow)")
        self.setObjectName("mlflowDialog")
        self._settings, self._store, self._open_url = settings, store, open_url
        self._runner = runner
        self._work = self._new_runner()
        self._cancel: CancelToken | None = None
        self._versions: list[RunVersionDTO] = []
        self.status_label = QLabel("Reading the registry…", objectName="mlflowStatus")
        self.status_label.setWordWrap(True)
        self.message_label = QLabel("", objectName="mlflowMessage", wordWrap=True)
        self.versions_table = self._table("mlflowVersions", VERSION_HEADERS)
        self.metrics_table = self._table("mlflowMetrics", ("Metric or parameter", "Value"))
        self.progress_bar = QProgressBar(self, objectName="mlflowProgress", visible=False)
        self.pull_button = self._button("Pull champion models", "mlflowPull", self.pull)
        self.cancel_button = self._button("Cancel", "mlflowCancel", self.cancel_pull)
        self.cancel_button.setVisible(False)
        self.ui_button = self._button("Open MLflow UI", "mlflowOpenUi", self.open_ui)
        self.refresh_button = self._button("Refresh", "mlflowRefresh", self.refresh)
        self._progress.connect(self._show_progress)
        self.versions_table.itemSelectionChanged.connect(self._show_metrics)
        self._lay_out()
        self.resize(1000, 620)
        self.refresh()

    def _new_runner(self) -> OperationRunner:
        work = OperationRunner(self)
        work.failed.connect(self._runner.failed)  # the window's one notification path
        return work

    def _table(self, name: str, headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers), self, objectName=name)
        table.setHorizontalHeaderLabels(list(headers))
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self, objectName=name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def _lay_out(self) -> None:
        tables = QHBoxLayout()
        tables.addWidget(self.versions_table, 3)
        tables.addWidget(self.metrics_table, 2)
        actions = QHBoxLayout()
        for widget in (self.pull_button, self.cancel_button, self.ui_button, self.refresh_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addLayout(tables, 1)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.message_label)
        layout.addLayout(actions)
        layout.addWidget(close)

    # --- reading -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the status and the registry again (on a worker)."""
        self.refresh_button.setEnabled(False)
        self._work.run(
            functools.partial(_overview, self._settings, self._store),
            on_success=self._loaded,
            on_failure=self._load_failed,
        )

    def _loaded(self, result: tuple[ModelsStatusDTO, RegistryOverviewDTO]) -> None:
        status, overview = result
        self.refresh_button.setEnabled(True)
        self._show_status(status)
        self._versions = [v for m in overview.models for v in m.versions]
        names = [m.name for m in overview.models for _ in m.versions]
        self.versions_table.setRowCount(len(self._versions))
        for row, (name, version) in enumerate(zip(names, self._versions, strict=True)):
            here = "adopted" if version.adopted_here else ("cached" if version.cached_here else "")
            cells = (name, version.version, ", ".join(version.aliases), here, version.run_id)
            for column, text in enumerate(cells):
                self.versions_table.setItem(row, column, QTableWidgetItem(text or ""))
        if overview.note:
            self._say(overview.note, error=False)
        if self._versions:
            self.versions_table.selectRow(0)
        self.loaded.emit()

    def _load_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.status_label.setText(self._status_text(model_service.model_status(self._settings)))
        self._say(describe_failure(error), error=True)
        self.loaded.emit()

    def _status_text(self, status: ModelsStatusDTO) -> str:
        lines = [f"Registry: {status.registry}", *(k.message for k in status.kinds)]
        return "\n".join(lines)

    def _show_status(self, status: ModelsStatusDTO) -> None:
        self.status_label.setText(self._status_text(status))

    def _show_metrics(self) -> None:
        rows = self.versions_table.selectionModel().selectedRows()
        chosen = self._versions[rows[0].row()] if rows else None
        pairs = (
            []
            if chosen is None
            else [*sorted(chosen.metrics.items()), *sorted(chosen.params.items())]
        )
        self.metrics_table.setRowCount(len(pairs))
        for row, (key, value) in enumerate(pairs):
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            self.metrics_table.setItem(row, 0, QTableWidgetItem(key))
            self.metrics_table.setItem(row, 1, QTableWidgetItem(text))

    def _say(self, message: str, *, error: bool) -> None:
        self.message_label.setText(message)
        self.message_label.setStyleSheet(f"color: {theme.ERROR if error else theme.OK};")

    # --- pulling -------------------------------------------------------------------------------

    def pull(self) -> None:
        """Download and adopt the champion models, with progress and Cancel."""
        token = self._cancel = CancelToken()
        self._set_pulling(True)
        report = self._progress.emit

        def work() -> ModelsStatusDTO:
            def progress(step: Progress) -> None:
                report(step.done, step.total, step.message)

            return model_service.pull_models(self._settings, progress=progress, cancel=token)

        self._work.run(work, on_success=self._pull_done, on_failure=self._pull_failed)

    def cancel_pull(self) -> None:
        """Stop the pull after the current download step (nothing new is adopted)."""
        if self._cancel is not None:
            self._cancel.cancel()

    def _show_progress(self, done: int, total: int, message: str) -> None:
        # QProgressBar holds ints: kilobytes keep a large model inside its range.
        self.progress_bar.setRange(0, max(1, total // 1024))
        self.progress_bar.setValue(min(done, total) // 1024)
        self.progress_bar.setFormat(f"{message}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    def _set_pulling(self, pulling: bool) -> None:
        self.progress_bar.setVisible(pulling)
        self.cancel_button.setVisible(pulling)
        self.pull_button.setEnabled(not pulling)

    def _pull_done(self, status: ModelsStatusDTO) -> None:
        self._set_pulling(False)
        self._cancel = None
        self._say(status.note or "Champion models pulled and in use.", error=False)
        self.pulled.emit()
        self.refresh()

    def _pull_failed(self, error: BaseException) -> None:
        self._set_pulling(False)
        self._cancel = None
        self._say(describe_failure(error), error=True)
        self.pulled.emit()

    # --- the MLflow UI -------------------------------------------------------------------------

    def open_ui(self) -> None:
        """Open the MLflow UI in the browser (starting the local server first if needed)."""
        self.ui_button.setEnabled(False)
        self._say("Opening the MLflow UI…", error=False)
        self._work.run(
            functools.partial(model_service.mlflow_ui_url, self._settings),
            on_success=self._ui_ready,
            on_failure=self._ui_failed,
        )

    def _ui_ready(self, url: str) -> None:
        self.ui_button.setEnabled(True)
        self._say(f"The MLflow UI is at {url}", error=False)
        self._open_url(QUrl(url))
        self.ui_opened.emit(url)

    def _ui_failed(self, error: BaseException) -> None:
        self.ui_button.setEnabled(True)
        self._say(describe_failure(error), error=True)

    # --- closing -------------------------------------------------------------------------------

    def _stop_work(self) -> None:
        """Cancel a pull and wait for the worker; a fresh runner serves a later showing."""
        self.cancel_pull()
        self._work.shutdown()
        self._work.deleteLater()
        self._work = self._new_runner()
        self._set_pulling(False)
        self.refresh_button.setEnabled(True)
        self.ui_button.setEnabled(True)

    def done(self, result: int) -> None:
        """Closing cancels a pull and waits for it, so nothing reaches a closed dialog."""
        self._stop_work()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        """The title bar's close button stops the work too."""
        self._stop_work()
        super().closeEvent(event)
