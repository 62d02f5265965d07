"""Following changes made elsewhere in the study browser (part of the dock).

When another connection changes the store (a second window, the CLI, the sync), the whole
listing is read again with fresh rows for the studies on screen and the open study; the model
repaints only rows that differ, or, when studies came or went, is reset with the selection and
the study at the top of the view put back. The open study follows a rename; deleted elsewhere,
it is closed (``study_vanished``). Its media list is read again too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.schemas.study_browser import StudyRowDTO, StudySortKey
from iamedic_desktop.services.study_browser import list_study_ids, study_rows

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QLineEdit

    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.media_list_widget import MediaListWidget
    from iamedic_desktop.ui.operations import OperationRunner
    from iamedic_desktop.ui.study_table_model import StudyTableModel
    from iamedic_desktop.ui.study_table_view import StudyTableView


class StudyBrowserFollowing:
    """The study browser's side of following the store."""

    # Provided by StudyBrowserDock.
    study_vanished: SignalInstance
    search_box: QLineEdit
    table: StudyTableView
    model: StudyTableModel
    media_list: MediaListWidget
    _database: OperationRunner
    _store: LocalStore | None
    _ticket: int
    _current: StudyDTO | None
    _sort: tuple[StudySortKey, bool]

    def _reselect(self) -> None:
        raise NotImplementedError

    def _listing_done(self) -> None:
        raise NotImplementedError

    def _open(self, study: StudyDTO) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def follow_store(self) -> None:
        """Read the listing, the rows on screen and the open study again (changed elsewhere).

        On screen only what differs changes: the selection, the scroll position and the open
        study stay, unless the open study is gone.
        """
        store = self._store
        if store is None:
            return
        self._ticket += 1  # an older listing still on its way is dropped
        ticket = self._ticket
        current = self._current
        wanted = self._keys_on_screen()
        if current is not None:
            wanted.append(current.id.hex)
        search = self.search_box.text().strip() or None
        sort_key, descending = self._sort

        def read() -> tuple[list[str], list[StudyRowDTO]]:
            keys = list_study_ids(
                store.uow, store.actor, search=search, sort_key=sort_key, descending=descending
            )
            return keys, study_rows(store.uow, store.actor, list(dict.fromkeys(wanted)))

        self._database.run(read, on_success=lambda got: self._followed(ticket, current, *got))

    def _keys_on_screen(self) -> list[str]:
        first = self.table.rowAt(0)
        if first < 0:
            first = 0
        last = self.table.rowAt(self.table.viewport().height() - 1)
        if last < 0:
            last = min(self.model.rowCount(), first + self.model.BLOCK) - 1
        return [self.model.key(row) for row in range(first, last + 1)]

    def _followed(
        self,
        ticket: int,
        current: StudyDTO | None,
        keys: list[str],
        rows: list[StudyRowDTO],
    ) -> None:
        if ticket != self._ticket:
            return
        top = self.table.rowAt(0)
        top_key = self.model.key(top) if top >= 0 else None
        if self.model.follow(keys, rows):
            self._reselect()
            row = self.model.row_of(top_key) if top_key is not None else None
            if row is not None:  # the same study at the top as before the change
                self.table.verticalScrollBar().setValue(row)
            self._listing_done()  # the count and the empty state (same keys: unchanged)
        if current is None or self._current is None or self._current.id != current.id:
            return
        fresh = next((r.to_study() for r in rows if r.id == current.id), None)
        if fresh is None:
            self._close()
            self.study_vanished.emit(current)
        elif fresh.alias != self._current.alias:
            self._open(fresh)  # the window's title follows the new alias
        else:
            self._current = fresh
            self.media_list.refresh()
