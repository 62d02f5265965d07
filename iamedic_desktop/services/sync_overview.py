"""What the sync panel lists, read in one go: pending rows, open conflicts, recent errors.

Each row is said in words a person reads: what it is ("Box NT", "Usefulness label") and where
("scan.png in Follow-up 1", a still by its readable name). Only the first ``LISTED`` pending rows
are named (an import of a thousand images leaves thousands pending; their count is enough).

Qt-free; threading: ``read_overview`` and ``read_media_conflicts`` run on the window's database
runner, never on the UI thread. They only read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iamedic_desktop.models import Media, Study
from iamedic_desktop.services.media_records import media_dtos
from iamedic_desktop.sync import local_side as ls
from iamedic_desktop.sync.conflicts import ConflictView, list_conflicts
from iamedic_desktop.sync.engine import SyncStatus, recent_errors, sync_status
from iamedic_desktop.sync.rows import content_columns

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from iamedic_desktop.services.local_store import LocalStore

LISTED = 200
ERRORS_LISTED = 10
TABLE_WORDS = {  # the words of ConflictView.what, for rows that are not in conflict
    "users": "User",
    "user_roles": "Role",
    "doctor_profiles": "Doctor registration",
    "studies": "Study",
    "media": "Media",
    "frames": "Still",
    "picture_classification_predictions": "Usefulness prediction",
    "picture_classification_annotations": "Usefulness label",
    "picture_bb_predictions": "Box prediction",
    "picture_bb_annotations": "Box",
}
_BOX_TABLES = ("picture_bb_annotations", "picture_bb_predictions")
_BOX = "picture_bb_annotations"


@dataclass(frozen=True)
class PendingItem:
    """A row waiting to be sent: what it is and where it belongs."""

    what: str
    where: str


@dataclass(frozen=True)
class ConflictItem:
    """An open conflict as the panel lists it, both sides in words."""

    id: int
    what: str
    where: str
    central: str
    yours: str
    media_id: uuid.UUID | None


@dataclass(frozen=True)
class SyncOverview:
    """Everything the sync panel shows, read at once."""

    status: SyncStatus
    pending: list[PendingItem] = field(default_factory=list)
    conflicts: list[ConflictItem] = field(default_factory=list)
    errors: list[tuple[dt.datetime, str]] = field(default_factory=list)


def what_of(table: str, row: dict[str, Any] | None) -> str:
    """ "Box NT", "Usefulness label", "Study": a row's kind in words."""
    words = TABLE_WORDS.get(table, table)
    if row is not None and table == _BOX and row.get("bb_class"):
        return f"{words} {row['bb_class']}"
    return words


def side_text(table: str, row: dict[str, Any] | None) -> str:
    """One side of a conflict in words: the box's place, the label, or its changed values."""
    if row is None:
        return "deleted"
    if table in _BOX_TABLES:
        hidden = ", hidden" if row.get("is_hidden") else ""
        return (
            f"at {_num(row['x_min'])}, {_num(row['y_min'])}, "
            f"{_num(row['width'])} × {_num(row['height'])}{hidden}"
        )
    if table == "picture_classification_annotations":
        return usefulness_text(row.get("usefulness"))
    values = (f"{name} {row.get(name)}" for name in content_columns(table) if name in row)
    return ", ".join(values)


def usefulness_text(value: object) -> str:
    """ "useful" / "not useful" for a usefulness label's value."""
    return "useful" if value in (1, True, "1") else "not useful"


def _num(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number.is_integer() else f"{number:.1f}"


def _media_id_of(table: str, row_id: uuid.UUID, row: dict[str, Any] | None) -> uuid.UUID | None:
    if table == "media":
        return row_id
    key = "frame_media_id" if table == "frames" else "media_id"
    value = (row or {}).get(key)
    return uuid.UUID(str(value)) if value else None


class _Places:
    """Where rows belong, by media id and study id, named once each (database thread)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def names(self, media_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        found = [m for m in (self._session.get(Media, i) for i in set(media_ids)) if m is not None]
        aliases: dict[uuid.UUID, str] = {}
        for media in found:
            if media.study_id not in aliases:
                study = self._session.get(Study, media.study_id)
                aliases[media.study_id] = study.alias if study is not None else ""
        return {
            dto.id: f"{dto.readable_name} in {aliases[dto.study_id]}".removesuffix(" in ")
            for dto in media_dtos(self._session, found)
        }

    def study(self, study_id: object) -> str:
        study = self._session.get(Study, uuid.UUID(str(study_id))) if study_id else None
        return study.alias if study is not None else ""


def _pending(session: Session) -> list[PendingItem]:
    entries = sorted(ls.read_pending(session).values(), key=lambda p: p.upto_seq)[:LISTED]
    rows: dict[tuple[str, uuid.UUID], dict[str, Any] | None] = {}
    present: set[tuple[str, uuid.UUID]] = set()
    for table in {p.table for p in entries}:
        current = ls.local_rows(session, table, [p.row_id for p in entries if p.table == table])
        present.update((table, row_id) for row_id in current)
        for p in entries:
            if p.table == table:
                rows[(table, p.row_id)] = current.get(p.row_id, p.tombstone)
    places = _Places(session)
    media_ids = [_media_id_of(p.table, p.row_id, rows[(p.table, p.row_id)]) for p in entries]
    names = places.names(i for i in media_ids if i is not None)
    items = []
    for p, media_id in zip(entries, media_ids, strict=True):
        row = rows[(p.table, p.row_id)]
        deleted = "" if (p.table, p.row_id) in present else " (deleted)"
        if p.table == "studies":
            where = (row or {}).get("alias", "")
        elif media_id is not None:
            where = names.get(media_id) or _tomb_name(row)
        else:
            where = ""
        items.append(PendingItem(what_of(p.table, row) + deleted, where))
    return items


def _tomb_name(row: dict[str, Any] | None) -> str:
    return str((row or {}).get("filename", "a deleted media"))


def describe_conflicts(session: Session, views: list[ConflictView]) -> list[ConflictItem]:
    """The conflicts in words (database thread)."""
    names = _Places(session).names(v.media_id for v in views if v.media_id is not None)
    items = []
    for view in views:
        row = view.local or view.central
        where = names.get(view.media_id, "") if view.media_id else ""
        if view.table == "studies":
            where = (row or {}).get("alias", "")
        items.append(
            ConflictItem(
                view.id,
                view.what,
                where,
                side_text(view.table, view.central),
                side_text(view.table, view.local),
                view.media_id,
            )
        )
    return items


def read_overview(store: LocalStore) -> SyncOverview:
    """Database thread: the status, the pending rows, the open conflicts, the last errors."""
    status = sync_status(store.uow)
    views = list_conflicts(store.uow)
    with store.uow() as uow:
        pending = _pending(uow.session) if status.pending else []
        conflicts = describe_conflicts(uow.session, views)
    errors = recent_errors(store.uow, limit=ERRORS_LISTED)
    return SyncOverview(status, pending, conflicts, errors)


def read_media_conflicts(store: LocalStore, media_id: uuid.UUID) -> list[ConflictView]:
    """Database thread: the open conflicts of one media (the canvas shows them)."""
    return list_conflicts(store.uow, media_id=media_id)
