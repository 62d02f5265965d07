"""Local-only bookkeeping of the embedded store: identity of this store and the sync outbox.

These tables never exist centrally. The sync layer grows them (tombstones, base versions,
cursors); for now they record which rows changed locally so nothing edited offline is missed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from iamedic_desktop.models.base import LocalBase, UTCDateTime, utcnow


class LocalIdentity(LocalBase):
    """The single row naming this store: its device id and, in local mode, its local user."""

    __tablename__ = "local_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=uuid.uuid4)
    local_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    central_url: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OutboxEntry(LocalBase):
    """A central-table row changed locally and not yet pushed (one entry per change)."""

    __tablename__ = "sync_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    operation: Mapped[str] = mapped_column(String(8), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
