"""Records every local change of a central-table row in ``sync_outbox``, in the same flush.

Each entry gets, from a trigger, the central version its row was last synced at (the version
the edit is based on); a delete keeps the deleted row (a tombstone).

Because the entry is written in the transaction that changes the row, a crash can never leave a
change without its outbox entry, nor an entry for a change that was rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from iamedic_desktop.models.base import Base
from iamedic_desktop.models.local import OutboxEntry

_TRACKED = "_iamedic_outbox_tracked"


def _record(session: Session, _context: Any, _instances: Any) -> None:
    entries: list[OutboxEntry] = []
    for obj in session.new:
        if isinstance(obj, Base):
            if getattr(obj, "id", None) is None:
                obj.id = uuid.uuid4()  # type: ignore[attr-defined]
            entries.append(_entry(obj, "insert"))
    for obj in session.dirty:
        if isinstance(obj, Base) and session.is_modified(obj, include_collections=False):
            entries.append(_entry(obj, "update"))
    for obj in session.deleted:
        if isinstance(obj, Base):
            entries.append(_entry(obj, "delete"))
    session.add_all(entries)


def _entry(obj: Base, operation: str) -> OutboxEntry:
    return OutboxEntry(
        table_name=obj.__tablename__,
        row_id=obj.id,  # type: ignore[attr-defined]
        operation=operation,
        # A tombstone carries the deleted row: a box is matched centrally by media and class.
        row_json=row_json(obj) if operation == "delete" else None,
    )


def row_json(obj: Base) -> str | None:
    """The row's columns as the JSON the sync exchanges (``sync/rows.py``)."""
    from iamedic_desktop.sync.rows import dump_row, row_values

    return dump_row(row_values(obj.__tablename__, obj))


def track_local_changes(session_factory: sessionmaker[Session]) -> None:
    """Make every session of ``session_factory`` record its central-row changes."""
    # Marked on the factory itself: event.contains() keys its registry by the address of the
    # factory's session class and answers yes for a new factory at a freed one's address.
    if not getattr(session_factory, _TRACKED, False):
        event.listen(session_factory, "before_flush", _record)
        setattr(session_factory, _TRACKED, True)
