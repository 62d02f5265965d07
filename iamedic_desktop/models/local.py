"""Local-only bookkeeping of the embedded store: its identity, sign-in sessions, the outbox.

These tables never exist centrally; the sync's own ones are in ``models/sync.py``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from iamedic_desktop.models.base import LocalBase, UTCDateTime, utcnow


class LocalIdentity(LocalBase):
    """The single row naming this store: its device id and, in local mode, its local user.

    ``device_id`` also names the store: it is written into the data folder's marker, tying the
    media to this database, so a data folder whose database was lost or swapped is refused.
    """

    __tablename__ = "local_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, default=uuid.uuid4)
    local_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    central_url: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OutboxEntry(LocalBase):
    """A central-table row changed locally and not yet pushed (one entry per change).

    ``base_version`` is the central version the edit was based on (set from ``sync_base`` by a
    trigger; None for a row never synced); ``row_json`` is the deleted row of a delete (a
    tombstone: a box is matched centrally by its media and class, not its id).
    """

    __tablename__ = "sync_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    operation: Mapped[str] = mapped_column(String(8), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    base_version: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    row_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class MediaFile(LocalBase):
    """What the workstation knows of a stored file beyond the central row.

    ``source_sha256`` is the hash of the file as imported (before a DICOM conversion or a
    transcode), so importing the same file twice into a study is recognised; ``probe_json``
    keeps the probe (duration, fps, frame count, size, codec, rotation) so views need not
    probe again; ``dicom_json`` keeps the de-identified DICOM header of a converted file.

    ``active_study_id`` is the study of the file's media while that media is active (a trigger
    on ``media`` clears it on delete): with ``source_sha256`` it is unique, so the duplicate
    rule holds even when two imports race. ``missing_since`` is set while the media is
    ``failed`` because its file is missing.
    """

    __tablename__ = "media_files"
    __table_args__ = (
        Index(
            "uq_media_files_active_source",
            "active_study_id",
            "source_sha256",
            unique=True,
            sqlite_where=text("active_study_id IS NOT NULL AND source_sha256 IS NOT NULL"),
        ),
    )

    file_path: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    source_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    probe_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    dicom_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    active_study_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    missing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class BoxSource(LocalBase):
    """Which model version a clinician's box was accepted from (the central table has no column).

    Keyed like the box itself, (media_id, bb_class); removed with the box. The box may have been
    moved after it was accepted: compare its ``updated_at`` with ``accepted_at``.
    """

    __tablename__ = "box_sources"

    media_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bb_class: Mapped[str] = mapped_column(String(100), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(255), nullable=False)
    confidence: Mapped[float] = mapped_column(Double, nullable=False)
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LocalSession(LocalBase):
    """A person who signed in on this store with Google, and how fresh their sign-in is.

    One row per user who ever signed in here; at most one is ``is_current`` (the acting user).
    ``refreshed_at`` is the last sign-in or online refresh: the session works offline for
    ``offline_days`` after it. ``token_expires_at`` is the ID token's expiry: past it, the next
    start refreshes the session online when it can. ``local_studies`` is this user's answer to
    "make the local-mode studies yours?" (``taken``/``left``); once any row holds one, the
    question is not asked again. The refresh token itself lives in the OS keyring only.
    """

    __tablename__ = "local_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject: Mapped[str] = mapped_column(String, nullable=False)
    signed_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    token_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    local_studies: Mapped[str | None] = mapped_column(String(8), nullable=True)


class FrameScores(LocalBase):
    """Every frame's classifier score of a video, one row per (video, model version).

    Local only: never synced, no central table holds it (the web keeps no per-frame scores), so
    a pulled video is scored again here. ``scores`` is ``frame_count`` float32 probabilities,
    little-endian, frame 0 first (36 KB for a 5-minute 30 fps video); running the same version
    again replaces the row. No foreign key: the video's row may be removed by a sync, and a
    stale row is never read (reads go through the actor's media).
    """

    __tablename__ = "frame_scores"

    video_media_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(255), primary_key=True)
    frame_count: Mapped[int] = mapped_column(Integer, nullable=False)
    scores: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
