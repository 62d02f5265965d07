"""Media record services on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import ConflictError, InvalidInputError, NotFoundError
from iamedic_desktop.models import Frame, Media, MediaType, OutboxEntry, Study, UploadStatus, User
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services import media_records
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    seeding,
    store_snapshot,
)


@dataclass(frozen=True)
class Setup:
    """A doctor with one empty study."""

    doctor: Actor
    study_id: uuid.UUID


@pytest.fixture
def setup(uow_factory: UnitOfWorkFactory) -> Setup:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user, alias="Scans")
    return Setup(actor_for(user), study.id)


def _new(uow_factory: UnitOfWorkFactory, setup: Setup, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "filename": "head.png",
        "file_path": str(uuid.uuid4()),
        "file_size": 2048,
        "mime_type": "image/png",
    }
    fields.update(overrides)
    return media_records.create_media(uow_factory, setup.doctor, setup.study_id, **fields)


def test_create_records_every_column(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    key = str(uuid.uuid4())
    dto = _new(uow_factory, setup, file_path=key, filename=" clip.mp4 ", mime_type="video/mp4")
    with uow_factory() as uow:
        row = uow.session.get_one(Media, dto.id)
        stored = (
            row.study_id,
            row.filename,
            row.file_path,
            row.file_size,
            row.mime_type,
            row.media_type,
            row.upload_status,
            row.is_active,
        )
    assert stored == (
        setup.study_id,
        "clip.mp4",
        key,
        2048,
        "video/mp4",
        MediaType.VIDEO,
        UploadStatus.UPLOADED,
        True,
    )
    assert dto.media_type is MediaType.VIDEO


def test_create_by_study_alias_with_processing_status(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    dto = media_records.create_media(
        uow_factory,
        setup.doctor,
        "Scans",
        filename="a.jpg",
        file_path=str(uuid.uuid4()),
        file_size=1,
        mime_type="image/jpeg",
        media_type="image",
        upload_status="processing",
    )
    assert dto.upload_status is UploadStatus.PROCESSING
    done = media_records.set_upload_status(uow_factory, setup.doctor, dto.id, "uploaded")
    assert done.upload_status is UploadStatus.UPLOADED
    assert done.updated_at > dto.updated_at


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"filename": ""}, "file name cannot be empty"),
        ({"filename": "a" * 501}, "at most 500"),
        ({"file_path": "media/x.png"}, "not a bare uuid4"),
        ({"file_path": str(uuid.uuid1())}, "not a bare uuid4"),
        ({"file_size": 0}, "empty"),
        ({"mime_type": "application/zip"}, "not accepted"),
        ({"mime_type": "image/png", "media_type": "video"}, "not a video"),
        ({"media_type": "frame", "mime_type": "image/jpeg"}, "recorded as a frame"),
        ({"upload_status": "done"}, "not an upload status"),
    ],
)
def test_bad_media_input_changes_nothing(
    uow_factory: UnitOfWorkFactory, setup: Setup, overrides: dict[str, Any], words: str
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=words):
        _new(uow_factory, setup, **overrides)
    assert store_snapshot(uow_factory) == before


def test_a_stored_file_serves_one_media_only(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    first = _new(uow_factory, setup)
    before = store_snapshot(uow_factory)
    with pytest.raises(ConflictError, match=r"already belongs to the media 'head\.png'"):
        _new(uow_factory, setup, file_path=first.file_path, filename="copy.png")
    assert store_snapshot(uow_factory) == before


def test_media_of_a_deleted_study_cannot_be_added(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    with seeding(uow_factory) as session:
        user = session.get_one(User, setup.doctor.user_id)
        make_study(session, user, alias="Gone", is_active=False)
    with pytest.raises(NotFoundError, match="has been deleted"):
        media_records.create_media(
            uow_factory,
            setup.doctor,
            "Gone",
            filename="a.png",
            file_path=str(uuid.uuid4()),
            file_size=3,
            mime_type="image/png",
        )


def test_list_get_rename_delete(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    image = _new(uow_factory, setup, filename="one.png")
    video = _new(uow_factory, setup, filename="two.mp4", mime_type="video/mp4")
    listed = media_records.list_media(uow_factory, setup.doctor, setup.study_id)
    assert [m.id for m in listed] == [image.id, video.id]
    only_videos = media_records.list_media(uow_factory, setup.doctor, "Scans", media_type="video")
    assert [m.id for m in only_videos] == [video.id]

    renamed = media_records.rename_media(uow_factory, setup.doctor, image.id, " first.png ")
    assert (renamed.filename, renamed.file_path) == ("first.png", image.file_path)
    assert media_records.get_media(uow_factory, setup.doctor, str(image.id)) == renamed

    deleted = media_records.delete_media(uow_factory, setup.doctor, image.id)
    assert deleted.is_active is False
    assert [m.id for m in media_records.list_media(uow_factory, setup.doctor, "Scans")] == [
        video.id
    ]
    every = media_records.list_media(uow_factory, setup.doctor, "Scans", include_deleted=True)
    assert len(every) == 2
    with pytest.raises(NotFoundError, match=r"'first\.png' has been deleted"):
        media_records.get_media(uow_factory, setup.doctor, image.id)


def test_rename_refuses_a_bad_name_and_changes_nothing(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    image = _new(uow_factory, setup)
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError):
        media_records.rename_media(uow_factory, setup.doctor, image.id, "  ")
    with pytest.raises(InvalidInputError, match="not a valid media id"):
        media_records.rename_media(uow_factory, setup.doctor, "3f2b8c1e-9d4a", "x.png")
    assert store_snapshot(uow_factory) == before


def test_deleting_a_still_deactivates_its_frame(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    with seeding(uow_factory) as session:
        study = session.get_one(Study, setup.study_id)
        video = make_media(session, study, media_type=MediaType.VIDEO)
        frame = make_frame(session, video)
    media_records.delete_media(uow_factory, setup.doctor, frame.frame_media_id)
    with uow_factory() as uow:
        assert uow.session.get_one(Frame, frame.id).is_active is False


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_media_changes_reach_the_outbox(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    dto = _new(uow_factory, setup)
    media_records.rename_media(uow_factory, setup.doctor, dto.id, "renamed.png")
    with uow_factory() as uow:
        ops = uow.session.scalars(
            select(OutboxEntry.operation)
            .where(OutboxEntry.table_name == "media", OutboxEntry.row_id == dto.id)
            .order_by(OutboxEntry.seq)
        ).all()
    assert ops == ["insert", "update"]
