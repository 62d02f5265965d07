"""Recording an imported file: its ``media`` and ``media_files`` rows, once per content.

The duplicate rule (a study holds a content once among its active media) holds against other
processes importing at the same time: the recording transaction takes the store's write lock
before it looks for a duplicate, and the unique index on (active study, source hash) is the
store's own guard. Threading: the caller's thread, one unit of work per call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError
from iamedic_desktop.media.storage import StoredFile
from iamedic_desktop.models import Media, MediaFile
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.media_records import (
    build_media_row,
    media_dto,
    require_file_unused,
)
from iamedic_desktop.services.permissions import find_study_for_actor, require_doctor_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory


def find_duplicate(session: Session, study_id: uuid.UUID, source_sha256: str) -> Media | None:
    """The study's active media whose file was imported from content ``source_sha256``."""
    query = (
        select(Media)
        .join(MediaFile, MediaFile.file_path == Media.file_path)
        .where(
            Media.study_id == study_id,
            Media.is_active.is_(True),
            MediaFile.source_sha256 == source_sha256,
        )
        .order_by(Media.created_at)
        .limit(1)
    )
    return session.scalars(query).first()


@dataclass(frozen=True)
class StoredForm:
    """A file now in the media store, with what its rows will record."""

    file: StoredFile
    kind: str
    mime_type: str
    filename: str
    probe_json: str | None
    dicom_json: str | None


def record_import(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    study_id: uuid.UUID,
    stored: StoredForm,
    source_sha256: str,
) -> MediaDTO | Media:
    """Write the media row and its media_files row in one transaction.

    Returns the new row's DTO, or the ORM row of the media that already holds this content
    (another import recorded it first): the caller then removes its stored file.
    """
    try:
        with uow_factory() as uow:
            uow.begin_write()
            session = uow.session
            require_doctor_role(session, actor)
            study = find_study_for_actor(session, actor, study_id)
            existing = find_duplicate(session, study.id, source_sha256)
            if existing is not None:  # another import recorded the same content meanwhile
                return existing
            media = build_media_row(
                study.id,
                filename=stored.filename,
                file_path=stored.file.key,
                file_size=stored.file.size,
                mime_type=stored.mime_type,
            )
            require_file_unused(session, media.file_path)
            session.add(media)
            session.add(
                MediaFile(
                    file_path=stored.file.key,
                    sha256=stored.file.sha256,
                    source_sha256=source_sha256,
                    size=stored.file.size,
                    probe_json=stored.probe_json,
                    dicom_json=stored.dicom_json,
                    active_study_id=study.id,
                )
            )
            # The message is logged: it names the stored key, never the file's own name.
            commit_or_conflict(uow, f"The file {stored.file.key} could not be recorded.")
            return media_dto(media)
    except ConflictError:
        with uow_factory() as uow:
            existing = find_duplicate(uow.session, study_id, source_sha256)
        if existing is None:
            raise
        return existing
