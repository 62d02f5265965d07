"""The ten central tables, column for column as ``spec/central_schema.md`` fixes them.

The web backend owns this schema (Alembic head ``92a0e66dec74``); the same models serve the
embedded SQLite store. Names of constraints and indexes are part of the contract.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from iamedic_desktop.models.base import Base, CentralRow, UTCDateTime, lower_enum, utcnow


class MediaType(enum.StrEnum):
    """What a media row holds: an imported image or video, or a still taken from a video."""

    IMAGE = "image"
    VIDEO = "video"
    FRAME = "frame"


class UploadStatus(enum.StrEnum):
    """Whether a media row's file is complete (``uploaded``)."""

    UPLOADED = "uploaded"
    PROCESSING = "processing"
    FAILED = "failed"


class Role(enum.StrEnum):
    """Values of ``user_roles.role`` (a plain varchar centrally)."""

    ADMIN = "admin"
    DOCTOR = "doctor"


class DoctorStatus(enum.StrEnum):
    """Values of ``doctor_profiles.status`` (a plain varchar centrally)."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


# The box model's classes, in output order, spelled exactly as the web stores them.
BB_CLASSES: tuple[str, ...] = (
    "CM",
    "IT",
    "NT",
    "midbrain",
    "nasal bone",
    "nasal skin",
    "nasal tip",
    "palate",
    "thalami",
)

_TYPE_LABELS = ", ".join(f"'{m.value}'" for m in MediaType)
_STATUS_LABELS = ", ".join(f"'{s.value}'" for s in UploadStatus)


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


def _created_at_indexed() -> Mapped[dt.datetime]:
    return mapped_column(
        UTCDateTime,
        nullable=False,
        server_default=func.now(),
        default=utcnow,
        index=True,
        sort_order=100,
    )


class User(CentralRow, Base):
    """A person who signs in with Google; matched by e-mail."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String, nullable=False, unique=True, index=True)
    name: Mapped[str] = mapped_column(String, nullable=False)
    google_id: Mapped[str] = mapped_column(String, nullable=False, unique=True, index=True)
    # The web backend's own Google tokens: the workstation never reads or writes them.
    access_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Nullable with no default: only an explicit false means inactive.
    is_active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class UserRole(CentralRow, Base):
    """One role (admin or doctor) held by a user."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", name="unique_user_role"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("users.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String, nullable=False, index=True)


class DoctorProfile(CentralRow, Base):
    """A doctor's registration, approved or denied by an admin."""

    __tablename__ = "doctor_profiles"
    __table_args__ = (
        UniqueConstraint("user_id", name="unique_doctor_profile"),
        UniqueConstraint("matriculation_id", name="unique_matriculation_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("users.id"), nullable=False, index=True)
    matriculation_id: Mapped[str] = mapped_column(String, nullable=False, unique=True, index=True)
    legal_name: Mapped[str] = mapped_column(String, nullable=False)
    specialization: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False, index=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class Study(CentralRow, Base):
    """A doctor's study: a named group of media."""

    __tablename__ = "studies"
    __table_args__ = (UniqueConstraint("doctor_id", "alias", name="unique_doctor_study_alias"),)

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    doctor_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("users.id"), nullable=False, index=True)
    alias: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, index=True)


class Media(CentralRow, Base):
    """An image, a video or a still, with its file stored under ``file_path``."""

    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint(f"media_type IN ({_TYPE_LABELS})", name="valid_media_type"),
        CheckConstraint(f"upload_status IN ({_STATUS_LABELS})", name="valid_upload_status"),
    )

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    study_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("studies.id"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(String(500), nullable=False)
    file_path: Mapped[str] = mapped_column(String(1000), nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mime_type: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    media_type: Mapped[MediaType] = mapped_column(
        lower_enum(MediaType, "mediatype"), nullable=False, index=True
    )
    upload_status: Mapped[UploadStatus] = mapped_column(
        lower_enum(UploadStatus, "uploadstatus"), nullable=False, index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, index=True)


class Frame(CentralRow, Base):
    """A still taken from a video: links the still's media row to its video."""

    __tablename__ = "frames"
    __table_args__ = (
        Index("ix_frames_video_frame_num", "video_media_id", "frame_number"),
        Index("ix_frames_video_timestamp", "video_media_id", "timestamp_seconds"),
    )

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    video_media_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, _fk("media.id"), nullable=False, index=True
    )
    frame_media_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, _fk("media.id"), nullable=False, unique=True, index=True
    )
    timestamp_seconds: Mapped[float] = mapped_column(Double, nullable=False, index=True)
    frame_number: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, index=True)


class PictureClassificationPrediction(CentralRow, Base):
    """The frame classifier's probability that a media is useful, per model version."""

    __tablename__ = "picture_classification_predictions"
    __table_args__ = (
        UniqueConstraint("media_id", "model_version", name="unique_media_model_classification"),
    )

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    media_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("media.id"), nullable=False, index=True)
    media_type: Mapped[MediaType] = mapped_column(
        lower_enum(MediaType, "prediction_media_type"), nullable=False, index=True
    )
    prediction: Mapped[float] = mapped_column(Double, nullable=False)
    model_version: Mapped[str] = mapped_column(String(255), nullable=False, index=True)


class PictureClassificationAnnotation(CentralRow, Base):
    """The clinician's usefulness label of a media (one per media)."""

    __tablename__ = "picture_classification_annotations"
    __table_args__ = (CheckConstraint("usefulness IN (0, 1)", name="valid_usefulness"),)

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    media_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, _fk("media.id"), nullable=False, unique=True, index=True
    )
    media_type: Mapped[MediaType] = mapped_column(
        lower_enum(MediaType, "annotation_media_type"), nullable=False, index=True
    )
    usefulness: Mapped[int] = mapped_column(Integer, nullable=False)


class PictureBBPrediction(CentralRow, Base):
    """A box the box model predicted, per (media, model version, class)."""

    __tablename__ = "picture_bb_predictions"
    __table_args__ = (
        UniqueConstraint(
            "media_id", "model_version", "bb_class", name="unique_media_model_bb_class"
        ),
    )

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    media_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("media.id"), nullable=False, index=True)
    media_type: Mapped[MediaType] = mapped_column(
        lower_enum(MediaType, "bb_prediction_media_type"), nullable=False, index=True
    )
    bb_class: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    confidence: Mapped[float] = mapped_column(Double, nullable=False)
    x_min: Mapped[float] = mapped_column(Double, nullable=False)
    y_min: Mapped[float] = mapped_column(Double, nullable=False)
    width: Mapped[float] = mapped_column(Double, nullable=False)
    height: Mapped[float] = mapped_column(Double, nullable=False)
    model_version: Mapped[str] = mapped_column(String(255), nullable=False, index=True)


class PictureBBAnnotation(CentralRow, Base):
    """A clinician's box: one per (media, class), identified by that pair across systems."""

    __tablename__ = "picture_bb_annotations"
    __table_args__ = (
        UniqueConstraint("media_id", "bb_class", name="unique_media_bb_class_annotation"),
        CheckConstraint("usefulness IN (0, 1)", name="valid_bb_usefulness"),
    )

    created_at: Mapped[dt.datetime] = _created_at_indexed()
    media_id: Mapped[uuid.UUID] = mapped_column(Uuid, _fk("media.id"), nullable=False, index=True)
    media_type: Mapped[MediaType] = mapped_column(
        lower_enum(MediaType, "bb_annotation_media_type"), nullable=False, index=True
    )
    bb_class: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    usefulness: Mapped[int] = mapped_column(Integer, nullable=False)
    x_min: Mapped[float] = mapped_column(Double, nullable=False)
    y_min: Mapped[float] = mapped_column(Double, nullable=False)
    width: Mapped[float] = mapped_column(Double, nullable=False)
    height: Mapped[float] = mapped_column(Double, nullable=False)
    is_hidden: Mapped[bool] = mapped_column(Boolean, nullable=False)
