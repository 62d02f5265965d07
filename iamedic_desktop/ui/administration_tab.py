"""The settings dialog's Administration tab: users, roles, accounts and doctor registrations.

Everything goes through the administration's services, in operations on the window's database
runner, at the target ``services.admin_target`` names: the central database when it is
configured and reachable (changed directly, never queued), otherwise this workstation. The line
at the top says which, as the last operation found it. Below the details, ``AdminAccessPanel``
gives or revokes the selected user's workstation logins on the central database; Audit log…
opens the central audit log (``AuditDialog``), Statistics… the models' numbers against the
clinicians' labels (``StatisticsDialog``), Models (MLflow)… the registry (``MlflowDialog``). The
services check the actor: for someone who is not an admin the tab shows their refusal instead of
users. Each change shows the service's message and repaints the changed user's row only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.services import administration as actions
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.admin_access_panel import AdminAccessPanel
from iamedic_desktop.ui.admin_user_details import AdminUserDetails
from iamedic_desktop.ui.admin_user_table_model import COLUMNS, AdminUserTableModel
from iamedic_desktop.ui.audit_dialog import AuditDialog
from iamedic_desktop.ui.notes_dialog import NotesDialog
from iamedic_desktop.ui.operations import describe_failure

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.users import AdminUserDTO
    from iamedic_desktop.services.admin_target import AdminTarget
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.operations import OperationRunner

PAGE_SIZE = 100
SEARCH_DELAY_MS = 250
ROLE_CHOICES = (("Any role", None), ("Admin", "admin"), ("Doctor", "doctor"))
STATUS_CHOICES = (("Any registration", None), ("Pending", "pending"), ("Approved", "approved"),
                  ("Denied", "denied"), ("No registration", "none"))  # fmt: skip
ACTIVE_CHOICES = (("Active or not", None), ("Active", True), ("Deactivated", False))


# --- the tab ----------------------------------------------------------------------------------


class AdministrationTab(QWidget):
    """Users with their roles and registrations, filtered and sorted, and the admin's actions.

    ``store`` is the window's open store; without it each operation opens the store itself.
    """

    listed = Signal()  # a first page of users is shown (or the listing was refused)
    user_changed = Signal(object)  # the AdminUserDTO after an action the service accepted
    message_shown = Signal(str)  # every outcome of an action, as the admin reads it

    def __init__(
        self,
        runner: OperationRunner,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        store: LocalStore | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._settings = settings
        self._store = store
        self._sort = ("email", False)
        self._busy = False
        self._sized = False
        self._wanted: dict[str, Any] = {}
        self.notes_dialog: NotesDialog | None = None
        self.where_label = QLabel("Changes go to: …", objectName="adminWhere", wordWrap=True)
        self.search_edit = QLineEdit(objectName="adminSearch", clearButtonEnabled=True)
        self.search_edit.setPlaceholderText("Search e-mail, name, legal name, matriculation id")
        self.role_filter = _combo(ROLE_CHOICES)
        self.status_filter = _combo(STATUS_CHOICES)
        self.active_filter = _combo(ACTIVE_CHOICES)
        self.pending_first = QCheckBox("Pending registrations first", checked=True)
        self.model = AdminUserTableModel(self)
        self.table = self._make_table()
        self.details = AdminUserDetails(self)
        # No bound method of the tab: the panel and the audit log must not keep the tab alive.
        self._run_at = functools.partial(_run_at_target, runner, settings, store)
        self.access = AdminAccessPanel(self._run_at, self)
        self.audit_button = QPushButton("Audit log…", self)
        self.audit_button.setObjectName("openAudit")
        self.audit_button.setAutoDefault(False)
        self.audit_dialog: AuditDialog | None = None
        self.statistics_button = _push("Statistics…", "openStatistics", self)
        self.mlflow_button = _push("Models (MLflow)…", "openMlflow", self)
        self.statistics_dialog: QWidget | None = None
        self.mlflow_dialog: QWidget | None = None
        self.message_label = QLabel("", objectName="adminMessage", wordWrap=True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._lay_out()
        self._wire()
        self.reload()

    def _make_table(self) -> QTableView:
        table = QTableView(self, objectName="adminUsers")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(1, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        return table

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        for widget in (self.role_filter, self.status_filter, self.active_filter):
            filters.addWidget(widget)
        filters.addWidget(self.pending_first)
        filters.addStretch(1)
        filters.addWidget(self.statistics_button)
        filters.addWidget(self.mlflow_button)
        filters.addWidget(self.audit_button)
        # The table above the details: it keeps the dialog's whole width for its columns.
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where_label)
        layout.addWidget(self.search_edit)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.access)
        layout.addWidget(self.message_label)

    def _wire(self) -> None:
        self._search_timer.timeout.connect(self.reload)
        self.search_edit.installEventFilter(self)
        self.table.installEventFilter(self)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        for combo in (self.role_filter, self.status_filter, self.active_filter):
            combo.currentIndexChanged.connect(lambda _index: self.reload())
        self.pending_first.toggled.connect(lambda _on: self.reload())
        self.model.sort_requested.connect(self._sort_requested)
        self.model.page_wanted.connect(self._fetch_page)
        self.model.modelReset.connect(self._selection_changed)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._keep_indicator)
        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(lambda _now, _before: self._selection_changed())
        self.details.action_requested.connect(self._action_requested)
        self.access.message.connect(self._show_message)
        self.audit_button.clicked.connect(lambda _checked=False: self.open_audit())
        self.statistics_button.clicked.connect(lambda _checked=False: self.open_statistics())
        self.mlflow_button.clicked.connect(lambda _checked=False: self.open_mlflow())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter in the search lists at once, in the table it does nothing: left alone, the
        # settings dialog would take it for its default button and save and close.
        if event.type() == QEvent.Type.KeyPress and watched in (self.search_edit, self.table):
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if watched is self.search_edit:
                    self.reload()
                return True
        return super().eventFilter(watched, event)

    # --- listing ------------------------------------------------------------------------------

    def reload(self) -> None:
        """List the users again with the filters and order as they are now."""
        self._search_timer.stop()
        generation = self.model.start()
        self._wanted = self._listing_request()
        self._run(
            functools.partial(actions.list_page, self._wanted, 0, PAGE_SIZE),
            lambda result: self._first_page(generation, result),
            lambda error: self._refused_listing(generation, error),
        )

    def _listing_request(self) -> dict[str, Any]:
        # Read on the UI thread: the worker never touches a widget.
        return {
            "search": self.search_text,
            "role": self.role_filter.currentData(),
            "status": self.status_filter.currentData(),
            "active": self.active_filter.currentData(),
            "sort": self._sort[0],
            "descending": self._sort[1],
            "pending_first": self.pending_first.isChecked(),
        }

    @property
    def search_text(self) -> str | None:
        """The search as typed, or None."""
        return self.search_edit.text().strip() or None

    def _first_page(self, generation: int, result: tuple[str, Any]) -> None:
        where, page = result
        self._show_where(where)
        self.model.set_page(generation, page)
        if generation != self.model.generation:
            return
        if not self._sized and page.items:
            # Once, so the e-mails read whole; later the admin's own widths stay.
            self._sized = True
            self.table.resizeColumnsToContents()
        self.listed.emit()

    def _refused_listing(self, generation: int, error: BaseException) -> None:
        self.model.page_failed(generation)
        self._show_message(describe_failure(error), error=True)
        self.listed.emit()

    def _fetch_page(self, generation: int, offset: int) -> None:
        self._run(
            functools.partial(actions.list_page, self._wanted, offset, PAGE_SIZE),
            lambda result: self.model.add_page(generation, result[1]),
            lambda error: self.model.page_failed(generation),
        )

    def _sort_requested(self, key: str, descending: bool) -> None:
        self._sort = (key, descending)
        self.reload()

    def _keep_indicator(self, column: int, _order: Qt.SortOrder) -> None:
        # The query cannot order by roles or activity: the arrow stays where the order is.
        if COLUMNS[column][1] is None:
            key, descending = self._sort
            section = next(i for i, (_, k) in enumerate(COLUMNS) if k == key)
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            header = self.table.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(section, order)
            header.blockSignals(False)
            header.viewport().update()

    # --- the selected user and actions --------------------------------------------------------

    def selected_user(self) -> AdminUserDTO | None:
        """The user whose details are shown."""
        index = self.table.currentIndex()
        return self.model.user(index.row()) if index.isValid() else None

    def _selection_changed(self) -> None:
        user = self.selected_user()
        if self.details.user != user:
            self.access.show_user(user)
        self.details.show_user(user)
        self.details.setEnabled(not self._busy)

    def _action_requested(self, action: str, user: AdminUserDTO) -> None:
        if action in (actions.APPROVE, actions.DENY):
            self._ask_notes(action, user)
        else:
            self._start_action(action, user, None)

    def _start_action(self, action: str, user: AdminUserDTO, notes: str | None) -> None:
        self._set_busy(True)
        work = functools.partial(actions.act, action, user.email, notes)
        self._run(work, self._action_done, self._action_failed)

    def _ask_notes(self, action: str, user: AdminUserDTO) -> None:
        verb = "Approve" if action == actions.APPROVE else "Deny"
        final = "" if action == actions.APPROVE else " A denial is final."
        dialog = NotesDialog(
            title=f"{verb} registration",
            prompt=f"{verb} the doctor registration of {user.email}?{final}\n"
            "Notes for the applicant (optional):",
            ok_text=verb,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._start_action(action, user, dialog.notes()))
        dialog.finished.connect(lambda _code: setattr(self, "notes_dialog", None))
        self.notes_dialog = dialog
        dialog.open()

    def _action_done(self, result: tuple[str, Any]) -> None:
        where, change = result
        self._set_busy(False)
        self._show_where(where)
        self.model.update_row(change.user)
        if self.details.user is not None and self.details.user.id == change.user.id:
            self.details.show_user(change.user)
        self._show_message(change.message, error=False)
        self.user_changed.emit(change.user)

    def _action_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self._show_message(describe_failure(error), error=True)

    def open_audit(self) -> None:
        """Open (or raise) the central audit log's window."""
        if self.audit_dialog is None:
            dialog = AuditDialog(self._run_at, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _obj=None: setattr(self, "audit_dialog", None))
            self.audit_dialog = dialog
        self.audit_dialog.show()
        self.audit_dialog.raise_()

    def open_statistics(self) -> QWidget:
        """Open (or raise) the models' statistics."""
        if self.statistics_dialog is None:
            from iamedic_desktop.ui.statistics_dialog import StatisticsDialog

            self.statistics_dialog = self._keep(StatisticsDialog(self._run_at, self), "statistics")
        return _raised(self.statistics_dialog)

    def open_mlflow(self) -> QWidget:
        """Open (or raise) the MLflow registry's models, versions and runs."""
        if self.mlflow_dialog is None:
            from iamedic_desktop.ui.mlflow_dialog import MlflowDialog

            dialog = MlflowDialog(self._runner, self._settings, self, store=self._store)
            self.mlflow_dialog = self._keep(dialog, "mlflow")
        return _raised(self.mlflow_dialog)

    def _keep(self, dialog: QWidget, name: str) -> QWidget:
        # One window each, forgotten when closed (deleted on close).
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None: setattr(self, f"{name}_dialog", None))
        return dialog

    # --- plumbing -----------------------------------------------------------------------------

    def _run(
        self,
        work: Callable[[AdminTarget], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        # The dialog may close before the answer comes: a closed tab drops it.
        def alive(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda value: callback(value) if shiboken6.isValid(self) else None

        _run_at_target(
            self._runner, self._settings, self._store, work, alive(on_success), alive(on_failure)
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.details.setEnabled(not busy)

    def _show_where(self, where: str) -> None:
        self.where_label.setText(f"Changes go to: {where[:1].upper()}{where[1:]}")

    def _show_message(self, message: str, error: bool) -> None:
        self.message_label.setText(message)
        self.message_label.setStyleSheet(f"color: {theme.ERROR if error else theme.OK};")
        self.message_shown.emit(message)


def _run_at_target(
    runner: OperationRunner,
    settings: Settings,
    store: LocalStore | None,
    work: Callable[[AdminTarget], Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[BaseException], None],
) -> None:
    runner.run(
        functools.partial(actions.at_admin_target, settings, store, work),
        on_success=on_success,
        on_failure=on_failure,
    )


def _push(text: str, name: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setAutoDefault(False)  # Enter in the tab must not open it
    return button


def _raised(dialog: QWidget) -> QWidget:
    dialog.show()
    dialog.raise_()
    return dialog


def _combo(choices: tuple[tuple[str, object], ...]) -> QComboBox:
    combo = QComboBox()
    for text, value in choices:
        combo.addItem(text, value)
    return combo
