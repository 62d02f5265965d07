"""The study browser dock: the doctor's studies (search, sort, create, rename, delete), the
selected study's media below them, and importing files into it (drop, or Import…).

Every store read or write runs on the ``database`` runner (one thread, in order); thumbnails
and imports on ``workers``. A listing is read in two steps so the first screen never waits for
the whole list: the head (the first rows, with their DTOs) and then every key (one query); the
table model fetches the DTOs of other rows as they are painted. The latest listing wins.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.schemas.study_browser import StudyRowDTO, StudySortKey
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.services.study_browser import list_study_ids, study_rows
from iamedic_desktop.ui.deleted_studies_dialog import DeletedStudiesDialog
from iamedic_desktop.ui.elided_label import ElidedLabel
from iamedic_desktop.ui.import_dialog import ImportDialog, StudyImporter, dropped_paths
from iamedic_desktop.ui.media_list_widget import MediaListWidget
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.study_browser_following import StudyBrowserFollowing
from iamedic_desktop.ui.study_dialogs import DeleteStudyDialog, StudyNameDialog
from iamedic_desktop.ui.study_editor import StudyDialog, StudyEditor
from iamedic_desktop.ui.study_table_model import StudyTableModel
from iamedic_desktop.ui.study_table_view import StudyTableView

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 250


class StudyBrowserDock(QDockWidget, StudyBrowserFollowing):
    """Studies above, the selected study's media below; import by drop or by file dialog."""

    study_opened = Signal(object)  # StudyDTO: the study now selected (or renamed)
    study_closed = Signal()  # the open study was deleted
    study_vanished = Signal(object)  # StudyDTO: the open study was deleted elsewhere
    media_activated = Signal(object)  # MediaDTO: double-click or Enter on a media row
    studies_loaded = Signal(int)  # the listing's total, once every key is in
    failed = Signal(str, object)  # a message for the window's one notification path

    def __init__(
        self, database: OperationRunner, workers: OperationRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__("Studies", parent)
        self.setObjectName("studyBrowserDock")
        self.setAcceptDrops(True)
        self._database = database
        self._store: LocalStore | None = None
        self._ticket = 0  # latest listing wins
        self._sort: tuple[StudySortKey, bool] = (StudySortKey.CREATED, True)
        self._current: StudyDTO | None = None
        self._pending_open: uuid.UUID | None = None

        self.model = StudyTableModel(self)
        self.search_box = QLineEdit(placeholderText="Search studies by alias")
        self.search_box.setClearButtonEnabled(True)
        self.count_label = QLabel("", objectName="panelCount")
        self.table = StudyTableView(self.model, self)
        self.media_list = MediaListWidget(database, workers, self)
        # Elided: a 255-character alias must not widen the dock (and the window with it).
        self.media_title = ElidedLabel("Media", object_name="panelTitle")
        self._empty = QLabel("", objectName="emptyState", alignment=Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.hide()
        self._editor = StudyEditor(database, self)
        self._editor.created.connect(self._created)
        self._editor.renamed.connect(self._renamed)
        self._editor.deleted.connect(self._deleted)
        self._importer = StudyImporter(workers, self)
        self._importer.imported.connect(lambda report: self.refresh_study(report.study_id))
        self._importer.failed.connect(self.failed)
        self._make_actions()
        self.setWidget(self._layout())

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self.search_box.textChanged.connect(self._search_timer.start)
        self.model.rows_wanted.connect(self._fetch_rows)
        self.model.sort_requested.connect(self._sort_requested)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.table.activated.connect(lambda _index: self.media_list.table.setFocus())
        self.media_list.media_activated.connect(self.media_activated)
        self._update_actions()

    # --- construction ------------------------------------------------------------------------

    def _make_actions(self) -> None:
        self.new_action = QAction("New…", self, toolTip="Create a study")
        self.rename_action = QAction("Rename…", self, toolTip="Rename the selected study")
        self.delete_action = QAction("Delete…", self, toolTip="Delete the selected study")
        self.deleted_action = QAction("Deleted…", self, toolTip="Your deleted studies: restore")
        self.import_files_action = QAction("Files…", self)
        self.import_folder_action = QAction("Folder…", self)
        self.new_action.triggered.connect(self.new_study)
        self.rename_action.triggered.connect(self.rename_study)
        self.delete_action.triggered.connect(self.delete_study)
        self.deleted_action.triggered.connect(self.show_deleted_studies)
        self.import_files_action.triggered.connect(
            lambda: self._importer.choose_files(self._store, self._current)
        )
        self.import_folder_action.triggered.connect(
            lambda: self._importer.choose_folder(self._store, self._current)
        )

    def _layout(self) -> QWidget:
        # Two rows of buttons, so the dock fits beside the review area on an 800 px screen.
        buttons, more = QHBoxLayout(), QHBoxLayout()
        for row, action in (
            (buttons, self.new_action),
            (buttons, self.rename_action),
            (buttons, self.delete_action),
            (more, self.deleted_action),
        ):
            button = QToolButton()
            button.setDefaultAction(action)  # text, tooltip and enabled state follow it
            row.addWidget(button)
        self.import_button = QToolButton()
        self.import_button.setText("Import…")
        self.import_button.setToolTip("Import files or a folder into the selected study")
        self.import_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.import_button)
        menu.addActions([self.import_files_action, self.import_folder_action])
        self.import_button.setMenu(menu)
        buttons.addStretch(1)
        more.addStretch(1)
        more.addWidget(self.import_button)
        title = QHBoxLayout()
        title.addWidget(QLabel("Studies", objectName="panelTitle"))
        title.addStretch(1)
        title.addWidget(self.count_label)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        top = (title, self.search_box, buttons, more, self.table, self._empty)
        self.splitter.addWidget(_stack(top, stretch=self.table))
        self.splitter.addWidget(_stack((self.media_title, self.media_list), self.media_list))
        # Half each: on a 720 px screen the open study's media need their rows as much.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        return _stack((self.splitter,), self.splitter, margin=8)

    # --- the listing -------------------------------------------------------------------------

    @property
    def current_study(self) -> StudyDTO | None:
        """The open (selected) study."""
        return self._current

    @property
    def sort(self) -> tuple[StudySortKey, bool]:
        """The listing's order: key and descending."""
        return self._sort

    def set_store(self, store: LocalStore | None) -> None:
        """The open store: list its studies (None: signed out, nothing listed)."""
        self._store = store
        self.media_list.set_store(store)
        if store is None:
            self._ticket += 1  # a listing still on its way is of the last user
            self.model.set_keys([])
            if self._current is not None:
                self._close()
        self._update_actions()
        self.reload()

    def reload(self) -> None:
        """List the studies again (search and order as they are now)."""
        self._search_timer.stop()
        store = self._store
        if store is None:
            return
        self._ticket += 1
        ticket = self._ticket
        query = functools.partial(
            list_study_ids,
            store.uow,
            store.actor,
            search=self.search_box.text().strip() or None,
            sort_key=self._sort[0],
            descending=self._sort[1],
        )
        block = self.model.BLOCK
        # By media count or status the database aggregates every study even for the head:
        # one query then, not two.
        whole = self._sort[0] in (StudySortKey.MEDIA, StudySortKey.STATUS)

        def head() -> tuple[list[str], list[StudyRowDTO]]:
            keys = query() if whole else query(limit=block)
            return keys, study_rows(store.uow, store.actor, keys[:block])

        rest = None if whole else query
        self._database.run(head, on_success=lambda got: self._head_arrived(ticket, rest, *got))

    def _head_arrived(
        self, ticket: int, rest: Any, keys: list[str], rows: list[StudyRowDTO]
    ) -> None:
        if ticket != self._ticket:
            return
        complete = rest is None or len(keys) < self.model.BLOCK
        self.model.set_keys(keys, rows, complete=complete)
        self._reselect()
        if self.model.complete:
            self._listing_done()
            return
        # Paint the head now, then read the whole listing: that read holds the GIL for a
        # while (100,000 ids), and the first screen must not wait for it.
        if self.table.isVisible():
            self.table.viewport().repaint()
        self._database.run(rest, on_success=lambda keys: self._keys_arrived(ticket, keys))

    def _keys_arrived(self, ticket: int, keys: list[str]) -> None:
        if ticket != self._ticket:
            return
        self.model.extend_keys(self.model.generation, keys)
        self._reselect()
        self._listing_done()

    def _listing_done(self) -> None:
        total = self.model.total
        self.count_label.setText("1 study" if total == 1 else f"{total:,} studies")
        search = self.search_box.text().strip()
        if total:
            self._empty.hide()
        elif search:
            self._empty.setText(f"No study matches '{search}'.")
            self._empty.show()
        else:
            self._empty.setText("No studies yet. Create one with New…")
            self._empty.show()
        log.info("✅ Study browser lists %d studies", total)
        self.studies_loaded.emit(total)

    def _reselect(self) -> None:
        wanted = self._pending_open or (self._current.id if self._current else None)
        row = self.model.row_of(wanted) if wanted is not None else None
        if row is None:
            return
        self._pending_open = None
        self.model.show_through(row)
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def _fetch_rows(self, generation: int, keys: list[str]) -> None:
        store = self._store
        if store is None:
            return
        self._database.run(
            functools.partial(study_rows, store.uow, store.actor, keys),
            on_success=lambda rows: self.model.add_rows(generation, keys, rows),
            on_failure=lambda _error: self.model.rows_failed(generation, keys),
        )

    def _sort_requested(self, key: StudySortKey, descending: bool) -> None:
        if (key, descending) != self._sort:
            self._sort = (key, descending)
            self.reload()

    # --- the open study ----------------------------------------------------------------------

    def open_study(self, study_id: uuid.UUID) -> None:
        """Select a study by id (once the listing holds it); restores the last study."""
        self._pending_open = study_id
        if self.model.row_of(study_id) is not None:
            self._reselect()

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        study_id = self.model.study_id(current.row())
        if self._current is not None and self._current.id == study_id:
            return
        cached = self.model.cached(current.row())
        if cached is not None:
            self._open(cached.to_study())
            return
        store = self._store
        if store is None:
            return
        self._database.run(
            functools.partial(study_rows, store.uow, store.actor, [study_id]),
            on_success=lambda rows: self._open(rows[0].to_study()) if rows else None,
        )

    def _open(self, study: StudyDTO) -> None:
        self._current = study
        self.media_title.setText(f"Media of '{study.alias}'")
        self.media_list.show_study(study.id)
        self._update_actions()
        self.study_opened.emit(study)

    def _close(self) -> None:
        self._current = None
        self.media_title.setText("Media")
        self.media_list.show_study(None)
        self.table.clearSelection()
        self._update_actions()
        self.study_closed.emit()

    def refresh_study(self, study_id: uuid.UUID) -> None:
        """Read one study's row (and its media, if shown) again after a change to it."""
        store = self._store
        if store is None:
            return
        self._database.run(
            functools.partial(study_rows, store.uow, store.actor, [study_id]),
            on_success=self._row_refreshed,
        )
        if self.media_list.study_id == study_id:
            self.media_list.refresh()

    def _row_refreshed(self, rows: list[StudyRowDTO]) -> None:
        for row in rows:
            self.model.update_row(row)

    def _update_actions(self) -> None:
        has_store = self._store is not None
        has_study = has_store and self._current is not None
        self.new_action.setEnabled(has_store)
        self.deleted_action.setEnabled(has_store)
        self.rename_action.setEnabled(has_study)
        self.delete_action.setEnabled(has_study)
        self.import_button.setEnabled(has_study)
        self.import_files_action.setEnabled(has_study)
        self.import_folder_action.setEnabled(has_study)

    # --- create, rename, delete --------------------------------------------------------------

    @property
    def active_dialog(self) -> StudyDialog | None:
        """The create / rename / delete dialog on screen, if any."""
        return self._editor.active_dialog

    def new_study(self) -> StudyNameDialog | None:
        """Ask for an alias and create the study (it opens once created)."""
        return None if self._store is None else self._editor.new_study(self._store)

    def rename_study(self) -> StudyNameDialog | None:
        """Ask for a new alias of the open study."""
        if self._store is None or self._current is None:
            return None
        return self._editor.rename_study(self._store, self._current)

    def delete_study(self) -> DeleteStudyDialog | None:
        """Confirm, then delete the open study (softly)."""
        if self._store is None or self._current is None:
            return None
        return self._editor.delete_study(self._store, self._current)

    def show_deleted_studies(self) -> DeletedStudiesDialog | None:
        """List the deleted studies; a restored one is listed again and opened."""
        if self._store is None:
            return None
        dialog = DeletedStudiesDialog(self._database, self._store, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.restored.connect(self._created)
        dialog.open()
        return dialog

    def _created(self, study: StudyDTO) -> None:
        search = self.search_box.text().strip().lower()
        if search and search not in study.alias.lower():
            self.search_box.clear()  # the new study must be seen
        self._pending_open = study.id
        self.reload()

    def _renamed(self, study: StudyDTO) -> None:
        self._open(study)  # the window shows the new alias
        self.reload()  # its place in the order may change

    def _deleted(self, study: StudyDTO) -> None:
        if self._current is not None and self._current.id == study.id:
            self._close()
        self.reload()

    # --- import ------------------------------------------------------------------------------

    @property
    def import_dialog(self) -> ImportDialog | None:
        """The last import's dialog."""
        return self._importer.dialog

    def import_files(self, paths: Sequence[Path]) -> ImportDialog | None:
        """Import files and folders into the open study, in a dialog with progress and Cancel."""
        return self._importer.import_paths(self._store, self._current, paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)


def _stack(items: Sequence[QWidget | QHBoxLayout], stretch: QWidget, *, margin: int = 0) -> QWidget:
    """A widget holding ``items`` top to bottom; ``stretch`` takes the spare height."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(margin, margin, margin, margin)
    for item in items:
        if isinstance(item, QHBoxLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item, 1 if item is stretch else 0)
    return holder
