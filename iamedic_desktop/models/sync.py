"""Local-only sync bookkeeping: what the store last agreed on with the central database.

``sync_base`` is the central version and content hash each synced row had when it was last
pulled or pushed: an outbox entry records the version its edit was based on (copied from here by
a trigger), and push and pull compare it with the central row to find conflicts.
``sync_conflicts`` keeps both sides of each conflicting edit until a person picks one;
``sync_state`` holds the pull cursor and the times of the last syncs; ``sync_errors`` the last
errors, for the sync panel.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DDL, BigInteger, Integer, String, Text, Uuid, event
from sqlalchemy.orm import Mapped, mapped_column

from iamedic_desktop.models.base import LocalBase, UTCDateTime, utcnow


class SyncBase(LocalBase):
    """The central state a local row was last in agreement with."""

    __tablename__ = "sync_base"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class SyncState(LocalBase):
    """One named value of the sync's own state (cursor, scope user, last sync times)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class SyncConflict(LocalBase):
    """An edit made here that met a different central edit of the same row.

    ``local_json`` is the local row (None: deleted here), ``central_json`` the central one
    (None: deleted centrally). The central one is in the store; the local one waits here until
    a person keeps one of them (``resolution``: ``central`` or ``local``).
    """

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    media_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    local_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    central_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    central_version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(8), nullable=True)


class SyncErrorEntry(LocalBase):
    """A sync that failed, and why (the newest ones are kept)."""

    __tablename__ = "sync_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    message: Mapped[str] = mapped_column(Text, nullable=False)


# The same trigger local migration 0008 creates, for stores made from the models (tests).
BASE_VERSION_TRIGGER = """
CREATE TRIGGER sync_outbox_base_version AFTER INSERT ON sync_outbox
BEGIN
    UPDATE sync_outbox SET base_version = (
        SELECT version FROM sync_base
        WHERE sync_base.table_name = NEW.table_name AND sync_base.row_id = NEW.row_id
    ) WHERE seq = NEW.seq;
END
"""
event.listen(
    LocalBase.metadata, "after_create", DDL(BASE_VERSION_TRIGGER).execute_if(dialect="sqlite")
)
