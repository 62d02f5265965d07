"""The sync panel: how the sync goes, Sync now, what waits to be sent, conflicts, last errors.

A dock (View -> Sync panel, or its key). It reads everything it lists at once
(``sync_overview.read_overview``) on the database runner, when it is shown and, while it is
shown, after every sync, every change of the store and every resolution. Conflicts are resolved
from here with Keep central / Keep mine on the selected ones (``SyncController.resolve``).

Threading: UI thread; reads on the database runner, the latest one wins.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.services.sync_overview import SyncOverview, read_overview
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.sync_status_widget import clock

if TYPE_CHECKING:
    from iamedic_desktop.ui.sync_controller import SyncController


OFFLINE = "Offline: changes wait here until the central database answers."


def state_line(sync: SyncController) -> str:
    """How the sync goes, in one sentence (why it failed: in the errors, and the tooltip)."""
    if sync.refused is not None:
        return f"Sync is off. {sync.refused}"
    if sync.offline_reason is not None:
        return OFFLINE
    state = sync.runner_state
    if state is None:
        return "Connecting to the central database…" if sync.store is not None else "Not syncing."
    if state.running:
        return "Syncing…"
    if state.online is False:
        return OFFLINE
    if state.last_error:
        return "The last sync failed: see the errors below."
    status = sync.status
    when = clock(status.last_sync_at) if status and status.last_sync_at else None
    return f"Online. Last sync at {when}." if when else "Online."


def errors_title(overview: SyncOverview) -> str:
    """ "Recent errors (2)", or that none came since the last sync that worked."""
    errors, last = overview.errors, overview.status.last_sync_at
    if not errors:
        return "Recent errors (none)"
    if last is not None and all(at < last for at, _message in errors):
        return f"Recent errors (none since the sync at {clock(last)})"
    return f"Recent errors ({len(errors)})"


def _list(parent: QWidget, name: str) -> QListWidget:
    widget = QListWidget(parent, objectName=name)
    widget.setWordWrap(True)
    widget.setTextElideMode(Qt.TextElideMode.ElideRight)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return widget


class SyncPanelDock(QDockWidget):
    """The sync's state, pending rows, open conflicts (to resolve) and recent errors."""

    def __init__(
        self, sync: SyncController, database: OperationRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__("Sync", parent)
        self.setObjectName("syncPanel")
        self._sync = sync
        self._database = database
        self._reading = self._read_again = False
        self.overview: SyncOverview | None = None
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.state_label = QLabel("", body, objectName="syncPanelState")
        self.state_label.setWordWrap(True)
        self.sync_button = QPushButton("Sync now", body)
        self.sync_button.clicked.connect(lambda _checked=False: sync.sync_now())
        top = QHBoxLayout()
        top.addWidget(self.state_label, 1)
        top.addWidget(self.sync_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addWidget(self._conflicts_group(body), 2)
        self.pending_group = QGroupBox("Waiting to be sent", body)
        self.pending_list = _list(self.pending_group, "syncPending")
        QVBoxLayout(self.pending_group).addWidget(self.pending_list)
        layout.addWidget(self.pending_group, 2)
        self.errors_group = QGroupBox("Recent errors", body)
        self.error_list = _list(self.errors_group, "syncErrors")
        QVBoxLayout(self.errors_group).addWidget(self.error_list)
        layout.addWidget(self.errors_group, 1)
        self.setWidget(body)

        sync.state_changed.connect(self._state_changed)
        sync.status_read.connect(lambda _status: self.reload())
        sync.conflicts_changed.connect(self.reload)
        self.visibilityChanged.connect(lambda visible: self.reload() if visible else None)
        self._state_changed()

    def _conflicts_group(self, parent: QWidget) -> QGroupBox:
        group = self.conflicts_group = QGroupBox("Conflicts", parent)
        self.conflict_list = _list(group, "syncConflictList")
        self.conflict_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.conflict_list.itemSelectionChanged.connect(self._selection_changed)
        self.keep_central_button = QPushButton("Keep central", group)
        self.keep_central_button.setToolTip("Keep the central database's version of the selected")
        self.keep_mine_button = QPushButton("Keep mine", group)
        self.keep_mine_button.setToolTip("Keep this workstation's version of the selected")
        self.keep_central_button.clicked.connect(lambda _c=False: self.keep_selected("central"))
        self.keep_mine_button.clicked.connect(lambda _c=False: self.keep_selected("local"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.keep_central_button)
        buttons.addWidget(self.keep_mine_button)
        box = QVBoxLayout(group)
        box.addWidget(self.conflict_list)
        box.addLayout(buttons)
        self._selection_changed()
        return group

    # --- showing -------------------------------------------------------------------------------

    def toggle(self) -> None:
        """Show the panel (in front of a dock sharing its place), or hide it."""
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self.hide()
        else:
            self.show()
            self.raise_()

    def show_conflicts(self) -> None:
        """Show the panel with its conflicts in front (the status bar's count was clicked)."""
        self.show()
        self.raise_()
        self.conflict_list.setFocus()
        if self.conflict_list.count() and not self.conflict_list.selectedItems():
            self.conflict_list.setCurrentRow(0)

    def _state_changed(self) -> None:
        sync, state = self._sync, self._sync.runner_state
        self.state_label.setText(state_line(sync))
        reason = sync.offline_reason or (state.last_error if state is not None else None)
        self.state_label.setToolTip(reason or "")

    # --- reading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read what the panel lists again (only while it is shown)."""
        store = self._sync.store
        if store is None or not self.isVisible():
            return
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        OperationRunner.run(
            self._database,
            functools.partial(read_overview, store),
            on_success=self._read,
            on_failure=lambda _error: self._read_done(),
        )

    def _read_done(self) -> None:
        self._reading = False
        if self._read_again:
            self._read_again = False
            self.reload()

    def _read(self, overview: SyncOverview) -> None:
        self._read_done()
        self.overview = overview
        self._state_changed()
        status = overview.status
        self.pending_group.setTitle(f"Waiting to be sent ({status.pending})")
        self.pending_list.clear()
        for item in overview.pending:
            self._add(self.pending_list, f"{item.what}\n{item.where}" if item.where else item.what)
        more = status.pending - len(overview.pending)
        if more > 0:
            self._add(self.pending_list, f"… and {more} more")
        self._show_conflicts(overview)
        self.errors_group.setTitle(errors_title(overview))
        self.error_list.clear()
        for at, message in overview.errors:
            self._add(self.error_list, f"{clock(at)}  {message}")

    def _show_conflicts(self, overview: SyncOverview) -> None:
        chosen = {
            item.data(Qt.ItemDataRole.UserRole) for item in self.conflict_list.selectedItems()
        }
        self.conflicts_group.setTitle(f"Conflicts ({len(overview.conflicts)})")
        self.conflict_list.clear()
        for conflict in overview.conflicts:
            head = f"{conflict.what} — {conflict.where}" if conflict.where else conflict.what
            text = f"{head}\nCentral: {conflict.central}\nYours: {conflict.yours}"
            item = self._add(self.conflict_list, text)
            item.setData(Qt.ItemDataRole.UserRole, conflict.id)
            item.setSelected(conflict.id in chosen)
        if overview.conflicts and not self.conflict_list.selectedItems():
            self.conflict_list.setCurrentRow(0)
        self._selection_changed()

    @staticmethod
    def _add(widget: QListWidget, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text, widget)
        item.setToolTip(text)
        return item

    # --- resolving -----------------------------------------------------------------------------

    def selected_conflicts(self) -> list[int]:
        """The ids of the selected conflicts."""
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.conflict_list.selectedItems()]

    def keep_selected(self, keep: str) -> None:
        """Keep the ``central`` or the ``local`` side of the selected conflicts."""
        ids = self.selected_conflicts()
        if ids:
            self.keep_central_button.setEnabled(False)  # until the list is read again
            self.keep_mine_button.setEnabled(False)
            self._sync.resolve(ids, keep)

    def _selection_changed(self) -> None:
        chosen = bool(self.conflict_list.selectedItems())
        self.keep_central_button.setEnabled(chosen)
        self.keep_mine_button.setEnabled(chosen)
