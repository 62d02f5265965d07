"""SQLAlchemy 2 typed models: the ten central tables and the local sync bookkeeping."""

from __future__ import annotations

from iamedic_desktop.models.base import Base, LocalBase
from iamedic_desktop.models.central import (
    BB_CLASSES,
    DoctorProfile,
    DoctorStatus,
    Frame,
    Media,
    MediaType,
    PictureBBAnnotation,
    PictureBBPrediction,
    PictureClassificationAnnotation,
    PictureClassificationPrediction,
    Role,
    Study,
    UploadStatus,
    User,
    UserRole,
)
from iamedic_desktop.models.local import BoxSource, LocalIdentity, MediaFile, OutboxEntry
from iamedic_desktop.models.sync import SyncBase, SyncConflict, SyncErrorEntry, SyncState

CENTRAL_TABLES: tuple[str, ...] = tuple(Base.metadata.tables)

__all__ = [
    "BB_CLASSES",
    "CENTRAL_TABLES",
    "Base",
    "BoxSource",
    "DoctorProfile",
    "DoctorStatus",
    "Frame",
    "LocalBase",
    "LocalIdentity",
    "Media",
    "MediaFile",
    "MediaType",
    "OutboxEntry",
    "PictureBBAnnotation",
    "PictureBBPrediction",
    "PictureClassificationAnnotation",
    "PictureClassificationPrediction",
    "Role",
    "Study",
    "SyncBase",
    "SyncConflict",
    "SyncErrorEntry",
    "SyncState",
    "UploadStatus",
    "User",
    "UserRole",
]
