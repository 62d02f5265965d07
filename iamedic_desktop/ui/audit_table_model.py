"""The audit browser's table: one page of central audit entries, as a person reads them.

Columns: when (this computer's time), user (e-mail where the central database knows the user
a workstation stated, else the login that wrote: the web, psql), device, the table in words,
the row, the operation, and what changed (the columns of an update, else the whole row). The
tooltip of a row holds its values, old and new.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from iamedic_desktop.sync.audit import AuditEntry

HEADERS = ("When", "User", "Device", "Table", "Row", "Change", "What changed")
TABLE_WORDS = {
    "users": "Users",
    "user_roles": "User roles",
    "doctor_profiles": "Doctor profiles",
    "studies": "Studies",
    "media": "Media",
    "frames": "Frames",
    "picture_classification_predictions": "Image class predictions",
    "picture_classification_annotations": "Image class annotations",
    "picture_bb_predictions": "Box predictions",
    "picture_bb_annotations": "Box annotations",
}
OPS = {"I": "Added", "U": "Changed", "D": "Deleted"}
SHOWN_COLUMNS = 4
_Index = QModelIndex | QPersistentModelIndex


def short_id(value: uuid.UUID | None) -> str:
    """The first 8 hex digits of an id (the whole one is in the tooltip), or —."""
    return str(value)[:8] if value is not None else "—"


def changed_text(entry: AuditEntry) -> str:
    """``alias, notes`` for an update (at most four names, then how many more), else the row."""
    if entry.op != "U":
        return "whole row"
    names = entry.columns
    extra = len(names) - SHOWN_COLUMNS
    shown = ", ".join(names[:SHOWN_COLUMNS])
    return f"{shown} and {extra} more" if extra > 0 else shown


def _values_tip(entry: AuditEntry) -> str:
    lines = [f"Entry {entry.id}, row {entry.row_id}, login {entry.login}"]
    if entry.device_id is not None:
        lines.append(f"Device {entry.device_id}")
    for title, values in (("Before", entry.old_values), ("After", entry.new_values)):
        if values:
            lines.append(f"{title}: {json.dumps(values, ensure_ascii=False, default=str)}")
    return "\n".join(lines)


class AuditTableModel(QAbstractTableModel):
    """The entries of one page, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[AuditEntry] = []
        self._emails: dict[uuid.UUID, str] = {}

    def set_page(self, entries: list[AuditEntry], emails: dict[uuid.UUID, str]) -> None:
        """Show these entries instead of the page before."""
        self.beginResetModel()
        self._entries = list(entries)
        self._emails = dict(emails)
        self.endResetModel()

    def entry(self, row: int) -> AuditEntry | None:
        """The entry in ``row``, or None."""
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.entry(index.row()) if index.isValid() else None
        if entry is None:
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return _values_tip(entry)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._cells(entry)[index.column()]

    def _cells(self, entry: AuditEntry) -> tuple[str, ...]:
        user = self._emails.get(entry.user_id) if entry.user_id is not None else None
        return (
            entry.changed_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            user or (short_id(entry.user_id) if entry.user_id else f"login {entry.login}"),
            short_id(entry.device_id),
            TABLE_WORDS.get(entry.table_name, entry.table_name),
            short_id(entry.row_id),
            OPS.get(entry.op, entry.op),
            changed_text(entry),
        )
