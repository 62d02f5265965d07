"""The study browser's table model: every matching study's key, rows fetched as they are seen.

The model holds the ordered keys of the listing (``services.study_browser.list_study_ids``,
one query) and a bounded cache of row DTOs. Rows are shown to the view a page at a time
(``canFetchMore``/``fetchMore``: no I/O, the keys are here), and a row's DTO is asked for when
the view first paints it: ``rows_wanted`` names the whole block of keys around it, and the
owner answers with ``add_rows``. A row whose DTO has not come yet shows a placeholder. The model
does no I/O and never sorts: the query does.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from iamedic_desktop.schemas.study_browser import AnnotationStatus, StudyRowDTO, StudySortKey
from iamedic_desktop.ui import theme

Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, StudySortKey], ...] = (
    ("Alias", StudySortKey.ALIAS),
    ("Created", StudySortKey.CREATED),
    ("Updated", StudySortKey.UPDATED),
    ("Media", StudySortKey.MEDIA),
    ("Status", StudySortKey.STATUS),
)
_STATUS_COLOURS = {
    AnnotationStatus.ANNOTATED: theme.OK,
    AnnotationStatus.AI_PENDING: theme.WARNING,
    AnnotationStatus.EMPTY: theme.MUTED,
}
PLACEHOLDER = "…"


def _day(value: Any) -> str:
    return value.astimezone().strftime("%Y-%m-%d")  # the time is in the tooltip


def _when(value: Any) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


class StudyTableModel(QAbstractTableModel):
    """Study keys in the query's order; rows (``StudyRowDTO``) cached on demand, LRU-bounded."""

    rows_wanted = Signal(int, list)  # generation, the keys of one block to fetch
    sort_requested = Signal(object, bool)  # StudySortKey, descending

    BLOCK = 100  # keys per rows request
    PAGE = 500  # rows shown to the view per fetchMore
    MAX_CACHED = 2000  # row DTOs kept (the rest are fetched again when seen again)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._keys: list[str] = []
        self._row_of: dict[str, int] | None = None  # built when first needed
        self._shown = 0
        self._complete = True
        self._generation = 0
        self._rows: OrderedDict[str, StudyRowDTO] = OrderedDict()
        self._missing: set[str] = set()  # keys the store has no row for (deleted meanwhile)
        self._requested: set[int] = set()  # blocks asked for and not yet answered
        self._pending: set[int] = set()  # blocks to ask for at the next turn of the loop
        self._flush = QTimer(self, singleShot=True, interval=0)
        self._flush.timeout.connect(self._request_pending)

    # --- the listing ------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Changes with every new listing: answers for an older one are dropped."""
        return self._generation

    def set_keys(
        self, keys: Sequence[str], rows: Sequence[StudyRowDTO] = (), *, complete: bool = True
    ) -> int:
        """A new listing (its first rows may come along); returns its generation.

        ``complete`` False: ``keys`` is the head of the listing and ``extend_keys`` follows.
        Cached rows stay (a DTO is valid whatever the order).
        """
        self.beginResetModel()
        self._generation += 1
        self._keys = list(keys)
        self._row_of = None
        self._complete = complete
        self._shown = min(len(self._keys), self.PAGE)
        self._missing.clear()
        self._requested.clear()
        self._pending.clear()
        self._store(rows)
        self.endResetModel()
        return self._generation

    def extend_keys(self, generation: int, keys: Sequence[str]) -> None:
        """The whole listing whose head ``set_keys`` showed (latest wins)."""
        if generation != self._generation:
            return
        head = len(self._keys)
        if list(keys[:head]) != self._keys:  # the store changed in between: start over
            self.set_keys(keys)
            return
        self._keys = list(keys)
        self._row_of = None
        self._complete = True
        self.show_through(min(len(self._keys), self.PAGE) - 1)  # a full first page

    def follow(self, keys: Sequence[str], rows: Sequence[StudyRowDTO]) -> bool:
        """The whole listing read again after a change made elsewhere, with fresh ``rows``.

        Cached rows not among ``rows`` are dropped (fetched again when next painted). With the
        same keys, only rows that differ are repainted (no reset, the view stays as it is);
        otherwise the model is reset, showing at least as many rows as before so the owner
        can put the view back where it was. Returns whether it was reset.
        """
        fresh = {row.id.hex: row for row in rows}
        stale = [key for key in self._rows if key not in fresh]
        for key in stale:
            del self._rows[key]
        if self._complete and list(keys) == self._keys:
            differ = [key for key, row in fresh.items() if self._rows.get(key) != row]
            self._store(rows)
            self._missing.difference_update(fresh)
            self._changed([*stale, *differ])
            return False
        shown = self._shown
        self.set_keys(keys, rows)
        self.show_through(min(shown, len(self._keys)) - 1)
        return True

    @property
    def complete(self) -> bool:
        """Whether every key of the listing is here (not just its head)."""
        return self._complete

    @property
    def total(self) -> int:
        """How many studies the listing has."""
        return len(self._keys)

    def key(self, row: int) -> str:
        """The key of the study on ``row``."""
        return self._keys[row]

    def study_id(self, row: int) -> uuid.UUID:
        """The id of the study on ``row``."""
        return uuid.UUID(self._keys[row])

    def row_of(self, study_id: uuid.UUID | str) -> int | None:
        """The row of a study in the listing (shown or not yet), or None."""
        if self._row_of is None:
            self._row_of = {key: row for row, key in enumerate(self._keys)}
        key = study_id.hex if isinstance(study_id, uuid.UUID) else study_id
        return self._row_of.get(key)

    def show_through(self, row: int) -> None:
        """Make rows up to ``row`` visible to the view (to select a study far down)."""
        if row >= self._shown and row < len(self._keys):
            self.beginInsertRows(QModelIndex(), self._shown, row)
            self._shown = row + 1
            self.endInsertRows()

    # --- rows ---------------------------------------------------------------------------------

    def add_rows(self, generation: int, keys: Sequence[str], rows: Sequence[StudyRowDTO]) -> None:
        """The answer to ``rows_wanted`` (dropped when the listing changed since)."""
        if generation != self._generation:
            return
        self._requested.difference_update({self._block_of(k) for k in keys[:1]})
        got = {row.id.hex for row in rows}
        self._missing.update(k for k in keys if k not in got)
        self._store(rows)
        self._changed(keys)

    def rows_failed(self, generation: int, keys: Sequence[str]) -> None:
        """The request for ``keys`` failed (already reported): ask again when next painted."""
        if generation == self._generation and keys:
            self._requested.discard(self._block_of(keys[0]))

    def update_row(self, row: StudyRowDTO) -> None:
        """A fresher row of one study (after an edit); repainted if shown."""
        key = row.id.hex
        if self.row_of(key) is None:
            return
        self._store([row])
        self._changed([key])

    def forget(self, study_id: uuid.UUID) -> None:
        """Drop a study's cached row so it is fetched again when next painted."""
        key = study_id.hex
        self._rows.pop(key, None)
        self._missing.discard(key)
        self._changed([key])

    def cached(self, row: int) -> StudyRowDTO | None:
        """The DTO of ``row`` if it is in the cache (no request made)."""
        if 0 <= row < len(self._keys):
            return self._rows.get(self._keys[row])
        return None

    @property
    def cached_count(self) -> int:
        """How many row DTOs the cache holds (at most MAX_CACHED)."""
        return len(self._rows)

    def _store(self, rows: Sequence[StudyRowDTO]) -> None:
        for row in rows:
            key = row.id.hex
            self._rows[key] = row
            self._rows.move_to_end(key)
        while len(self._rows) > self.MAX_CACHED:
            self._rows.popitem(last=False)

    def _changed(self, keys: Sequence[str]) -> None:
        rows = [r for r in (self.row_of(k) for k in keys) if r is not None and r < self._shown]
        if rows:
            last = self.columnCount() - 1
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), last))

    def _block_of(self, key: str) -> int:
        row = self.row_of(key)
        return -1 if row is None else row // self.BLOCK

    def _want(self, row: int) -> None:
        block = row // self.BLOCK
        if block in self._requested or block in self._pending:
            return
        self._pending.add(block)
        self._flush.start()

    def _request_pending(self) -> None:
        for block in sorted(self._pending):
            keys = self._keys[block * self.BLOCK : (block + 1) * self.BLOCK]
            # Ask only for what is not cached: a block half evicted costs half a request.
            wanted = [k for k in keys if k not in self._rows and k not in self._missing]
            if wanted:
                self._requested.add(block)
                self.rows_wanted.emit(self._generation, wanted)
        self._pending.clear()

    # --- Qt model -------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self._shown:
            return None
        key = self._keys[index.row()]
        study = self._rows.get(key)
        if study is None:
            if role == Qt.ItemDataRole.DisplayRole:
                if key in self._missing:
                    return "(deleted)" if index.column() == 0 else ""
                self._want(index.row())
                return PLACEHOLDER if index.column() == 0 else ""
            return None
        self._rows.move_to_end(key)  # recently seen rows stay cached
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(study, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"{study.alias}\n{study.media_count} media · {study.status.label}\n"
                f"{study.unlabelled} waiting for a label · {study.unscored} not scored by AI\n"
                f"Created {_when(study.created_at)} · updated {_when(study.updated_at)}"
            )
        if role == Qt.ItemDataRole.ForegroundRole and column == 4:
            colour = _STATUS_COLOURS.get(study.status)
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(study: StudyRowDTO, column: int) -> str:
        if column == 0:
            return study.alias
        if column == 1:
            return _day(study.created_at)
        if column == 2:
            return _day(study.updated_at)
        if column == 3:
            return str(study.media_count)
        return study.status.label

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The header asks; the owner lists the keys again in that order (the query sorts).
        if 0 <= column < len(COLUMNS):
            self.sort_requested.emit(COLUMNS[column][1], order == Qt.SortOrder.DescendingOrder)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._shown < len(self._keys)

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent):
            return
        end = min(len(self._keys), self._shown + self.PAGE)
        self.beginInsertRows(QModelIndex(), self._shown, end - 1)
        self._shown = end
        self.endInsertRows()
