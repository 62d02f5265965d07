"""Conflicts a sync kept: list them, and resolve one by keeping the central or the local side.

Keeping the central side only closes the conflict (that version is already in the store).
Keeping the local side writes it back through the ORM, as an edit: it gets an outbox entry based
on the central version it now replaces, so the next push sends it without a new conflict.

Threading: blocking service calls, each in its own unit of work.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from iamedic_desktop.core.errors import NotFoundError
from iamedic_desktop.models import Base, SyncConflict
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.sync.rows import content_columns, load_row, typed

KEEP = ("central", "local")
_WHAT = {
    "users": "User",
    "user_roles": "Role",
    "doctor_profiles": "Doctor registration",
    "studies": "Study",
    "media": "Media",
    "frames": "Still",
    "picture_classification_predictions": "Usefulness prediction",
    "picture_classification_annotations": "Usefulness label",
    "picture_bb_predictions": "Box prediction",
}


@dataclass(frozen=True)
class ConflictView:
    """One conflict, both sides as sync values (None: that side deleted the row)."""

    id: int
    table: str
    row_id: uuid.UUID
    media_id: uuid.UUID | None
    reason: str
    detected_at: dt.datetime
    local: dict[str, Any] | None
    central: dict[str, Any] | None
    resolution: str | None

    @property
    def what(self) -> str:
        """What the conflict is about, in a clinician's words."""
        row = self.local or self.central or {}
        if self.table == "picture_bb_annotations":
            return f"Box {row.get('bb_class', '')}"
        return _WHAT.get(self.table, self.table)

    def as_json(self) -> dict[str, Any]:
        """The conflict for ``--json`` output."""
        return {
            "id": self.id,
            "table": self.table,
            "what": self.what,
            "row_id": str(self.row_id),
            "media_id": str(self.media_id) if self.media_id else None,
            "reason": self.reason,
            "detected_at": self.detected_at.isoformat(),
            "local": self.local,
            "central": self.central,
            "resolution": self.resolution,
        }


def _view(row: SyncConflict) -> ConflictView:
    return ConflictView(
        id=row.id,
        table=row.table_name,
        row_id=row.row_id,
        media_id=row.media_id,
        reason=row.reason,
        detected_at=row.detected_at,
        local=load_row(row.local_json),
        central=load_row(row.central_json),
        resolution=row.resolution,
    )


def list_conflicts(
    uow_factory: UnitOfWorkFactory, *, media_id: uuid.UUID | None = None, open_only: bool = True
) -> list[ConflictView]:
    """The conflicts (open ones by default), oldest first; of one media when given."""
    query = select(SyncConflict).order_by(SyncConflict.id)
    if open_only:
        query = query.where(SyncConflict.resolved_at.is_(None))
    if media_id is not None:
        query = query.where(SyncConflict.media_id == media_id)
    with uow_factory() as uow:
        return [_view(row) for row in uow.session.scalars(query)]


def resolve(uow_factory: UnitOfWorkFactory, conflict_id: int, keep: str) -> ConflictView:
    """Keep the ``central`` or the ``local`` side of a conflict; the other is dropped."""
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {KEEP}")
    with uow_factory() as uow:
        uow.begin_write()
        session = uow.session
        row = session.get(SyncConflict, conflict_id)
        if row is None or row.resolved_at is not None:
            raise NotFoundError(f"There is no open conflict {conflict_id}.")
        view = _view(row)
        if keep == "local":
            _write_back(session, view)
        row.resolution = keep
        row.resolved_at = utcnow()
        commit_or_conflict(
            uow,
            "The local version cannot be kept: the study or media it belongs to no longer "
            "exists in the central database.",
        )
        return _view(row)


def _model(name: str) -> type[Any]:
    for mapper in Base.registry.mappers:
        if mapper.class_.__tablename__ == name:
            return mapper.class_
    raise KeyError(name)


def _write_back(session: Any, view: ConflictView) -> None:
    cls = _model(view.table)
    target_id = uuid.UUID(view.central["id"]) if view.central else view.row_id
    current = session.get(cls, target_id)
    if view.local is None:
        if current is not None:
            session.delete(current)
        return
    values = typed(view.table, view.local)
    if current is None:
        session.add(cls(**{**values, "updated_at": utcnow()}))
        return
    for column in content_columns(view.table):
        setattr(current, column, values[column])
    current.updated_at = utcnow()
