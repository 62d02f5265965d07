"""Whose rows a workstation syncs: a doctor their own studies and everything under them; an
admin also every user, role and doctor profile. Nobody else's study, whatever the store holds.

``owners`` finds the doctor a local row belongs to by following its parents, so a row forged
into the store under another doctor's study is recognised and never pushed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.sync.rows import IDENTITY_TABLES, PARENTS, table

_CHUNK = 500


@dataclass(frozen=True)
class Scope:
    """The signed-in central user a sync runs for."""

    user_id: uuid.UUID
    is_admin: bool
    local_user: uuid.UUID | None = None  # the store's local-mode clinician: never pushed

    @property
    def all_rows_of(self) -> frozenset[str]:
        """Tables whose every row this user syncs (beyond their own)."""
        return IDENTITY_TABLES if self.is_admin else frozenset()

    def may_write(self, name: str, owner: uuid.UUID | None) -> bool:
        """Whether a row of ``name`` owned by ``owner`` may be pushed by this user."""
        if name in IDENTITY_TABLES and self.is_admin:
            return True
        if name == "user_roles":
            return False  # roles are given by an admin only
        return owner == self.user_id


def owners(session: Session, name: str, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The owning doctor (user) of each row, by its id as text; None when a parent is unknown."""
    rows = list(rows)
    if name == "users":
        return {r["id"]: uuid.UUID(r["id"]) for r in rows}
    parent, column = PARENTS[name]
    parent_ids = {r[column] for r in rows if r.get(column)}
    if parent == "users":
        parent_owner = {p: uuid.UUID(p) for p in parent_ids}
    else:
        parent_owner = _parent_owners(session, parent, parent_ids)
    return {r["id"]: parent_owner.get(r.get(column)) for r in rows}


def _parent_owners(session: Session, parent: str, ids: set[str]) -> dict[str, uuid.UUID]:
    studies, media = table("studies"), table("media")
    out: dict[str, uuid.UUID] = {}
    id_list = [uuid.UUID(i) for i in ids]
    for start in range(0, len(id_list), _CHUNK):
        chunk = id_list[start : start + _CHUNK]
        if parent == "studies":
            query = select(studies.c.id, studies.c.doctor_id).where(studies.c.id.in_(chunk))
        else:
            query = (
                select(media.c.id, studies.c.doctor_id)
                .join(studies, studies.c.id == media.c.study_id)
                .where(media.c.id.in_(chunk))
            )
        out.update({str(row_id): doctor for row_id, doctor in session.execute(query)})
    return out


def descendants(session: Session, name: str, row_id: uuid.UUID) -> list[tuple[str, uuid.UUID]]:
    """The local rows a delete of this study or media takes with it (foreign-key cascade)."""
    if name == "studies":
        media = table("media")
        found: list[tuple[str, uuid.UUID]] = []
        for (media_id,) in session.execute(select(media.c.id).where(media.c.study_id == row_id)):
            found.append(("media", media_id))
            found.extend(descendants(session, "media", media_id))
        return found
    if name != "media":
        return []
    found = []
    frames = table("frames")
    for (frame_id,) in session.execute(
        select(frames.c.id).where(
            (frames.c.video_media_id == row_id) | (frames.c.frame_media_id == row_id)
        )
    ):
        found.append(("frames", frame_id))
    for child, (parent, column) in PARENTS.items():
        if parent == "media" and child != "frames":
            tbl = table(child)
            for (child_id,) in session.execute(select(tbl.c.id).where(tbl.c[column] == row_id)):
                found.append((child, child_id))
    return found
