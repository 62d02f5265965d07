"""Media rows of a study: the media pipeline records them after storing each file.

Stills (``media_type`` frame) are recorded by the frames service, never here. Deleting is soft;
deleting a still here also deactivates its frames row, so the two never disagree.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError
from iamedic_desktop.models import Frame, Media, MediaType, UploadStatus
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.media_names import display_names
from iamedic_desktop.services.media_rules import (
    check_file_path,
    check_file_size,
    check_media_type,
    check_upload_status,
    clean_filename,
    media_type_for,
)
from iamedic_desktop.services.permissions import (
    find_study_for_actor,
    load_media_for_actor,
    require_doctor_role,
)
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------


def media_using_file(session: Session, file_path: str) -> Media | None:
    """The media row (any study, any state) that already points at this stored file."""
    return session.scalars(select(Media).where(Media.file_path == file_path).limit(1)).first()


def frame_of_still(session: Session, still_id: uuid.UUID) -> Frame | None:
    """The frames row whose still is this media row."""
    return session.scalars(select(Frame).where(Frame.frame_media_id == still_id)).one_or_none()


def _study_media(
    session: Session, study_id: uuid.UUID, media_type: MediaType | None, include_deleted: bool
) -> list[Media]:
    query = select(Media).where(Media.study_id == study_id)
    if media_type is not None:
        query = query.where(Media.media_type == media_type)
    if not include_deleted:
        query = query.where(Media.is_active.is_(True))
    return list(session.scalars(query.order_by(Media.created_at, Media.id)))


# --- helpers ----------------------------------------------------------------------------------


def media_dto(media: Media, display_name: str | None = None) -> MediaDTO:
    """The DTO of a media row (``display_name``: a readable name, when the file's is not)."""
    dto = MediaDTO.model_validate(media)
    return dto.model_copy(update={"display_name": display_name}) if display_name else dto


def media_dtos(session: Session, media: Sequence[Media]) -> list[MediaDTO]:
    """The DTOs of a listing, each still with its readable name."""
    names = display_names(session, media)
    return [media_dto(m, names.get(m.id)) for m in media]


def file_in_use(file_path: str, owner: str) -> ConflictError:
    """The refusal of a storage key the media named ``owner`` already uses."""
    return ConflictError(
        f"The stored file {file_path} already belongs to the media '{owner}'; "
        "each media record needs its own file."
    )


def require_file_unused(session: Session, file_path: str) -> None:
    """Refuse a storage key another media row already uses (a purge would take both)."""
    other = media_using_file(session, file_path)
    if other is not None:
        raise file_in_use(file_path, other.filename)


# --- services ---------------------------------------------------------------------------------


def build_media_row(
    study_id: uuid.UUID,
    *,
    filename: str,
    file_path: str,
    file_size: int,
    mime_type: str,
    media_type: MediaType | str | None = None,
    upload_status: UploadStatus | str = UploadStatus.UPLOADED,
) -> Media:
    """A validated, unsaved media row; the caller adds it in its own transaction.

    ``media_type`` defaults to what the MIME type implies; when given it must agree.
    """
    mime, kind = media_type_for(mime_type, media_type)
    return Media(
        id=uuid.uuid4(),
        study_id=study_id,
        filename=clean_filename(filename),
        file_path=check_file_path(file_path),
        file_size=check_file_size(file_size),
        mime_type=mime,
        media_type=kind,
        upload_status=check_upload_status(upload_status),
        is_active=True,
    )


def create_media(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    study_ref: str | uuid.UUID,
    *,
    filename: str,
    file_path: str,
    file_size: int,
    mime_type: str,
    media_type: MediaType | str | None = None,
    upload_status: UploadStatus | str = UploadStatus.UPLOADED,
) -> MediaDTO:
    """Record an imported image or video whose file is stored under ``file_path``."""
    make_row = functools.partial(
        build_media_row,
        filename=filename,
        file_path=file_path,
        file_size=file_size,
        mime_type=mime_type,
        media_type=media_type,
        upload_status=upload_status,
    )
    make_row(uuid.uuid4())  # refuse bad input before touching the store
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        study = find_study_for_actor(session, actor, study_ref)
        media = make_row(study.id)
        require_file_unused(session, media.file_path)
        session.add(media)
        commit_or_conflict(uow, f"The media '{media.filename}' could not be recorded.")
        dto = media_dto(media)
        # Logs name media by id: a file name may carry a patient's.
        log.info("✅ Media %s (%s) recorded in study %s", dto.id, dto.media_type.value, study.id)
    return dto


def list_media(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    study_ref: str | uuid.UUID,
    *,
    media_type: MediaType | str | None = None,
    include_deleted: bool = False,
) -> list[MediaDTO]:
    """A study's media in import order, optionally of one type (stills are type ``frame``)."""
    kind = check_media_type(media_type) if media_type is not None else None
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        study = find_study_for_actor(session, actor, study_ref)
        return media_dtos(session, _study_media(session, study.id, kind, include_deleted))


def get_media(uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID) -> MediaDTO:
    """One of the actor's active media rows."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        return media_dto(load_media_for_actor(session, actor, media_id))


def rename_media(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID, new_filename: str
) -> MediaDTO:
    """Change a media's display name (only ``filename``; the stored file keeps its key)."""
    name = clean_filename(new_filename)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        if media.filename == name:
            return media_dto(media)
        old = media.filename
        media.filename = name
        commit_or_conflict(uow, f"The media '{old}' could not be renamed.")
        dto = media_dto(media)
        log.info("✅ Media %s renamed", dto.id)
    return dto


def delete_media(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID
) -> MediaDTO:
    """Soft-delete a media row (a still's frames row goes with it); the file is kept."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        media.is_active = False
        if media.media_type is MediaType.FRAME:
            frame = frame_of_still(session, media.id)
            if frame is not None:
                frame.is_active = False
        commit_or_conflict(uow, f"The media '{media.filename}' could not be deleted.")
        dto = media_dto(media)
        log.info("✅ Media %s deleted (soft)", dto.id)
    return dto


def set_upload_status(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    status: UploadStatus | str,
) -> MediaDTO:
    """Record how far a media's file got (``uploaded`` once it is complete)."""
    new_status = check_upload_status(status)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        if media.upload_status is new_status:
            return media_dto(media)
        media.upload_status = new_status
        commit_or_conflict(uow, f"The media '{media.filename}' could not be updated.")
        dto = media_dto(media)
        log.info("✅ Media %s is now %s", dto.id, new_status.value)
    return dto
