"""Rows for tests, written straight through a session with sensible defaults.

Use inside ``with seeding(uow_factory) as session:``; every factory flushes, so ids are ready
and children can point at parents at once. ``store_snapshot`` reads every table so a test can
prove that a refused operation changed nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from iamedic_desktop.models import (
    Base,
    DoctorProfile,
    DoctorStatus,
    Frame,
    LocalBase,
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
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

CLASSIFIER_VERSION = "frame_classifier_224x224 - 3"
BOX_MODEL_VERSION = "fetal_structures_bb_regressor_224x224 - 2"
_MIME = {MediaType.IMAGE: "image/png", MediaType.VIDEO: "video/mp4", MediaType.FRAME: "image/jpeg"}


@contextmanager
def seeding(uow_factory: UnitOfWorkFactory) -> Iterator[Session]:
    """A session whose rows are committed when the block ends without error."""
    with uow_factory() as uow:
        yield uow.session
        uow.commit()


def actor_for(user: User) -> Actor:
    """The Actor a service call runs as for this user."""
    return Actor(user_id=user.id, email=user.email, name=user.name)


def make_user(
    session: Session,
    *,
    roles: Iterable[str] = (),
    doctor_status: str | None = None,
    is_active: bool | None = True,
    email: str | None = None,
    name: str = "Test User",
) -> User:
    """A user with the given roles and, when ``doctor_status`` is set, a doctor profile."""
    tag = uuid.uuid4().hex[:10]
    user = User(
        id=uuid.uuid4(),
        email=email or f"user-{tag}@example.org",
        name=name,
        google_id=f"google-{tag}",
        is_active=is_active,
    )
    session.add(user)
    session.flush()
    for role in roles:
        session.add(UserRole(id=uuid.uuid4(), user_id=user.id, role=role))
    if doctor_status is not None:
        session.add(
            DoctorProfile(
                id=uuid.uuid4(),
                user_id=user.id,
                matriculation_id=f"MAT-{tag}",
                legal_name=f"Dr. {name}",
                specialization="Obstetrics",
                status=doctor_status,
            )
        )
    session.flush()
    return user


def make_doctor(session: Session, **kwargs: Any) -> User:
    """An approved doctor: the doctor role and an approved profile."""
    kwargs.setdefault("roles", (Role.DOCTOR.value,))
    kwargs.setdefault("doctor_status", DoctorStatus.APPROVED.value)
    return make_user(session, **kwargs)


def make_admin(session: Session, **kwargs: Any) -> User:
    """An admin who is not a doctor."""
    kwargs.setdefault("roles", (Role.ADMIN.value,))
    return make_user(session, **kwargs)


def make_study(
    session: Session,
    doctor: User,
    *,
    alias: str | None = None,
    is_active: bool = True,
    created_at: dt.datetime | None = None,
) -> Study:
    """A study of ``doctor``."""
    study = Study(
        id=uuid.uuid4(),
        doctor_id=doctor.id,
        alias=alias or f"Study {uuid.uuid4().hex[:8]}",
        is_active=is_active,
    )
    if created_at is not None:
        study.created_at = created_at
    session.add(study)
    session.flush()
    return study


def make_media(
    session: Session,
    study: Study,
    *,
    media_type: MediaType = MediaType.IMAGE,
    filename: str | None = None,
    file_size: int = 12345,
    is_active: bool = True,
    upload_status: UploadStatus = UploadStatus.UPLOADED,
) -> Media:
    """An image (by default), video or still row of ``study`` with its own storage key."""
    media = Media(
        id=uuid.uuid4(),
        study_id=study.id,
        filename=filename or f"{media_type.value}-{uuid.uuid4().hex[:6]}",
        file_path=str(uuid.uuid4()),
        file_size=file_size,
        mime_type=_MIME[media_type],
        media_type=media_type,
        upload_status=upload_status,
        is_active=is_active,
    )
    session.add(media)
    session.flush()
    return media


def make_frame(
    session: Session,
    video: Media,
    *,
    timestamp_seconds: float = 1.5,
    frame_number: int = 45,
    width: int = 640,
    height: int = 480,
    is_active: bool = True,
) -> Frame:
    """A still of ``video``: its media row (type frame) and its frames row."""
    study = session.get(Study, video.study_id)
    assert study is not None
    still = make_media(
        session,
        study,
        media_type=MediaType.FRAME,
        filename=f"frame_{video.id}_{timestamp_seconds:.3f}s_{uuid.uuid4().hex[:8]}.jpg",
        is_active=is_active,
    )
    frame = Frame(
        id=uuid.uuid4(),
        video_media_id=video.id,
        frame_media_id=still.id,
        timestamp_seconds=timestamp_seconds,
        frame_number=frame_number,
        width=width,
        height=height,
        is_active=is_active,
    )
    session.add(frame)
    session.flush()
    return frame


def make_classification_prediction(
    session: Session,
    media: Media,
    *,
    prediction: float = 0.9,
    model_version: str = CLASSIFIER_VERSION,
) -> PictureClassificationPrediction:
    """The classifier's probability for ``media``."""
    row = PictureClassificationPrediction(
        id=uuid.uuid4(),
        media_id=media.id,
        media_type=media.media_type,
        prediction=prediction,
        model_version=model_version,
    )
    session.add(row)
    session.flush()
    return row


def make_box_prediction(
    session: Session,
    media: Media,
    *,
    bb_class: str = "CM",
    confidence: float = 0.8,
    box: tuple[float, float, float, float] = (20.0, 30.0, 50.0, 40.0),
    model_version: str = BOX_MODEL_VERSION,
) -> PictureBBPrediction:
    """A predicted box on ``media``."""
    row = PictureBBPrediction(
        id=uuid.uuid4(),
        media_id=media.id,
        media_type=media.media_type,
        bb_class=bb_class,
        confidence=confidence,
        x_min=box[0],
        y_min=box[1],
        width=box[2],
        height=box[3],
        model_version=model_version,
    )
    session.add(row)
    session.flush()
    return row


def make_usefulness(
    session: Session, media: Media, usefulness: int = 1
) -> PictureClassificationAnnotation:
    """The clinician's usefulness label on ``media``."""
    row = PictureClassificationAnnotation(
        id=uuid.uuid4(), media_id=media.id, media_type=media.media_type, usefulness=usefulness
    )
    session.add(row)
    session.flush()
    return row


def make_box(
    session: Session,
    media: Media,
    *,
    bb_class: str = "CM",
    box: tuple[float, float, float, float] = (20.0, 30.0, 50.0, 40.0),
    is_hidden: bool = False,
) -> PictureBBAnnotation:
    """A clinician's box on ``media``."""
    row = PictureBBAnnotation(
        id=uuid.uuid4(),
        media_id=media.id,
        media_type=media.media_type,
        bb_class=bb_class,
        usefulness=1,
        x_min=box[0],
        y_min=box[1],
        width=box[2],
        height=box[3],
        is_hidden=is_hidden,
    )
    session.add(row)
    session.flush()
    return row


def store_snapshot(uow_factory: UnitOfWorkFactory) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the store has (central and, on SQLite, local bookkeeping)."""
    with uow_factory() as uow:
        present = set(inspect(uow.session.connection()).get_table_names())
        tables = [*Base.metadata.sorted_tables, *LocalBase.metadata.sorted_tables]
        snapshot: dict[str, list[tuple[Any, ...]]] = {}
        for table in tables:
            if table.name in present:
                rows = uow.session.execute(select(table)).all()
                snapshot[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return snapshot


def row_counts(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    """How many rows each table holds."""
    return {name: len(rows) for name, rows in store_snapshot(uow_factory).items()}
