"""The administration's user table: user ids in the listing's order, rows fetched a page at a time.

The model holds the ids of the pages read so far and their row DTOs (``AdminUserDTO``). The
listing's total is known from the first page; when the view scrolls to the end of what is here,
``fetchMore`` asks the owner for the next page (``page_wanted``), which answers with
``add_page``. A change to one user replaces that row only (``update_row``). The model does no
I/O and never sorts: the query does (``services.users.list_users``).
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.users import AdminUserDTO
from iamedic_desktop.ui import theme

Index = QModelIndex | QPersistentModelIndex

# Header, the service's sort key (None: the query cannot order by it).
COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Name", "name"),
    ("E-mail", "email"),
    ("Roles", None),
    ("Active", None),
    ("Registration", "status"),
)
STATUS_WORDS = {
    "pending": "Pending",
    "approved": "Approved",
    "denied": "Denied",
    None: "None",
}
_STATUS_COLOURS = {"pending": theme.WARNING, "approved": theme.OK, "denied": theme.ERROR}


def roles_text(user: AdminUserDTO) -> str:
    """The user's roles in words ("admin, doctor", or "none")."""
    return ", ".join(user.roles) or "none"


def status_text(user: AdminUserDTO) -> str:
    """The registration status in words."""
    return STATUS_WORDS.get(user.doctor_status, user.doctor_status or "None")


class AdminUserTableModel(QAbstractTableModel):
    """User ids in the query's order with their rows; the next page fetched when scrolled to."""

    page_wanted = Signal(int, int)  # generation, offset of the next page
    sort_requested = Signal(str, bool)  # the service's sort key, descending

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._ids: list[uuid.UUID] = []
        self._rows: dict[uuid.UUID, AdminUserDTO] = {}
        self._total = 0
        self._generation = 0
        self._asked = False  # a page request is on its way

    # --- the listing ------------------------------------------------------------------------

    def start(self) -> int:
        """A new listing is on its way: older answers will be dropped. Returns its generation."""
        self._generation += 1
        self._asked = True
        return self._generation

    def set_page(self, generation: int, page: Page[AdminUserDTO]) -> None:
        """The first page of the listing ``start`` announced (latest wins)."""
        if generation != self._generation:
            return
        self.beginResetModel()
        self._ids = [user.id for user in page.items]
        self._rows = {user.id: user for user in page.items}
        self._total = page.total
        self._asked = False
        self.endResetModel()

    def add_page(self, generation: int, page: Page[AdminUserDTO]) -> None:
        """The answer to ``page_wanted`` (dropped when the listing changed since)."""
        if generation != self._generation:
            return
        self._asked = False
        fresh = [user for user in page.items if user.id not in self._rows]
        self._total = page.total
        if fresh:
            first = len(self._ids)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._ids.extend(user.id for user in fresh)
            self._rows.update((user.id, user) for user in fresh)
            self.endInsertRows()

    def page_failed(self, generation: int) -> None:
        """The page request failed (already reported): scrolling may ask again."""
        if generation == self._generation:
            self._asked = False

    @property
    def generation(self) -> int:
        """Changes with every new listing: answers for an older one are dropped."""
        return self._generation

    @property
    def total(self) -> int:
        """How many users the listing has (shown or not yet)."""
        return self._total

    def user(self, row: int) -> AdminUserDTO | None:
        """The user on ``row``."""
        return self._rows.get(self._ids[row]) if 0 <= row < len(self._ids) else None

    def row_of(self, user_id: uuid.UUID) -> int | None:
        """The row of a user, or None when not shown."""
        try:
            return self._ids.index(user_id)
        except ValueError:
            return None

    def update_row(self, user: AdminUserDTO) -> None:
        """A fresher row of one user (after a change); only that row is repainted."""
        row = self.row_of(user.id)
        if row is None:
            return
        self._rows[user.id] = user
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- Qt model -------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        user = self.user(index.row()) if index.isValid() else None
        if user is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(user, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not user.is_active:
                return QColor(theme.MUTED)
            colour = _STATUS_COLOURS.get(user.doctor_status or "") if column == 4 else None
            return QColor(colour) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole and user.notes and column == 4:
            return f"Notes: {user.notes}"
        return None

    @staticmethod
    def _text(user: AdminUserDTO, column: int) -> str:
        if column == 0:
            return user.name
        if column == 1:
            return user.email
        if column == 2:
            return roles_text(user)
        if column == 3:
            return "Yes" if user.is_active else "No"
        return status_text(user)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # The header asks; the owner lists again in that order (the query sorts).
        key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else None
        if key is not None:
            self.sort_requested.emit(key, order == Qt.SortOrder.DescendingOrder)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and not self._asked and len(self._ids) < self._total

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._asked = True
            self.page_wanted.emit(self._generation, len(self._ids))
