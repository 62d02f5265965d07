"""The table model behind the study list: DTO rows, fetched page by page as the view scrolls."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

Index = QModelIndex | QPersistentModelIndex


class StudyTableModel(QAbstractTableModel):
    """Studies as rows (alias, media count, last change); holds DTOs, never ORM objects.

    The model does no I/O: ``fetchMore`` asks for the next page through ``fetch_requested`` and
    the owner appends it with ``append_page`` when it arrives.
    """

    fetch_requested = Signal(int)  # offset of the page wanted next

    HEADERS = ("Alias", "Media", "Updated")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []
        self._total = 0
        self._fetching = False
        self._fetch_failed = False

    def reset_rows(self, studies: Sequence[Any], total: int) -> None:
        """Replace every row with the first page of a new listing."""
        self.beginResetModel()
        self._rows = list(studies)
        self._total = total
        self._fetching = False
        self._fetch_failed = False
        self.endResetModel()

    def append_page(self, studies: Sequence[Any], total: int) -> None:
        """Add the page that ``fetch_requested`` asked for."""
        self._fetching = False
        self._total = total
        if studies:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(studies) - 1)
            self._rows.extend(studies)
            self.endInsertRows()

    def fetch_failed(self) -> None:
        """Stop asking for pages until the next reset (the failure was already reported)."""
        self._fetching = False
        self._fetch_failed = True

    @property
    def total(self) -> int:
        """How many studies the listing has in all, loaded or not."""
        return self._total

    def study_id(self, row: int) -> uuid.UUID:
        """The id of the study shown on ``row``."""
        study_id: uuid.UUID = self._rows[row].id
        return study_id

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        study = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return study.alias
            if column == 1:
                return str(study.media_count)
            return study.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{study.alias}\nid {study.id}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self._fetching or self._fetch_failed:
            return False
        return len(self._rows) < self._total

    def fetchMore(self, parent: Index) -> None:
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        self.fetch_requested.emit(len(self._rows))
