"""Frame services on SQLite and PostgreSQL: record, same timestamp, reactivation, list, delete."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, func, select

from iamedic_desktop.core.errors import ConflictError, InvalidInputError, NotFoundError
from iamedic_desktop.models import (
    Frame,
    Media,
    MediaType,
    PictureBBAnnotation,
    PictureBBPrediction,
    PictureClassificationAnnotation,
    PictureClassificationPrediction,
    UploadStatus,
)
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import FrameRecordResult
from iamedic_desktop.services import frame_records, frames
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_box,
    make_box_prediction,
    make_classification_prediction,
    make_doctor,
    make_media,
    make_study,
    make_usefulness,
    seeding,
    store_snapshot,
)


@dataclass(frozen=True)
class Setup:
    """A doctor with a study holding one video and one image."""

    doctor: Actor
    study_id: uuid.UUID
    video_id: uuid.UUID
    image_id: uuid.UUID


@pytest.fixture
def setup(uow_factory: UnitOfWorkFactory) -> Setup:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
        video = make_media(session, study, media_type=MediaType.VIDEO, filename="loop.mp4")
        image = make_media(session, study)
    return Setup(actor_for(user), study.id, video.id, image.id)


def _record(uow_factory: UnitOfWorkFactory, setup: Setup, **overrides: Any) -> FrameRecordResult:
    fields: dict[str, Any] = {
        "timestamp_seconds": 2.5,
        "frame_number": 75,
        "width": 800,
        "height": 600,
        "file_path": str(uuid.uuid4()),
        "file_size": 4096,
    }
    fields.update(overrides)
    still = frame_records.NewStill(**fields)
    [result] = frame_records.record_frames(uow_factory, setup.doctor, setup.video_id, [still])
    return result


def _count(uow_factory: UnitOfWorkFactory, model: Any) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_record_frame_writes_the_still_and_the_frame_row(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    key = str(uuid.uuid4())
    result = _record(uow_factory, setup, timestamp_seconds=2.50049, file_path=key)
    assert (result.created, result.reactivated, result.cleared_annotations) == (True, False, 0)
    frame = result.frame
    assert (frame.timestamp_seconds, frame.frame_number, frame.width, frame.height) == (
        2.5,
        75,
        800,
        600,
    )
    assert re.fullmatch(rf"frame_{setup.video_id}_2\.500s_[0-9a-f]{{8}}\.jpg", frame.still.filename)
    with uow_factory() as uow:
        still = uow.session.get_one(Media, frame.frame_media_id)
        row = uow.session.get_one(Frame, frame.id)
        assert (still.study_id, still.media_type, still.mime_type) == (
            setup.study_id,
            MediaType.FRAME,
            "image/jpeg",
        )
        assert (still.file_path, still.file_size, still.upload_status, still.is_active) == (
            key,
            4096,
            UploadStatus.UPLOADED,
            True,
        )
        assert (row.video_media_id, row.is_active, row.timestamp_seconds) == (
            setup.video_id,
            True,
            2.5,
        )


def test_same_timestamp_returns_the_existing_frame(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    first = _record(uow_factory, setup, timestamp_seconds=1.2344)
    before = store_snapshot(uow_factory)
    again = _record(uow_factory, setup, timestamp_seconds=1.2341)
    assert again.created is False and again.reactivated is False
    assert again.frame == first.frame
    assert "already exists" in again.message
    assert store_snapshot(uow_factory) == before
    found = frames.find_frame(uow_factory, setup.doctor, setup.video_id, 1.234)
    assert found == first.frame
    assert frames.find_frame(uow_factory, setup.doctor, setup.video_id, 1.235) is None


def test_a_deleted_frame_is_reactivated_with_its_annotations_cleared(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    first = _record(uow_factory, setup, timestamp_seconds=3.0)
    with seeding(uow_factory) as session:
        still = session.get_one(Media, first.frame.frame_media_id)
        make_usefulness(session, still, 1)
        make_box(session, still, bb_class="NT")
        make_box(session, still, bb_class="CM")
        make_classification_prediction(session, still)
        make_box_prediction(session, still)
    frames.delete_frame(uow_factory, setup.doctor, first.frame.id)

    result = _record(uow_factory, setup, timestamp_seconds=3.0)
    assert (result.created, result.reactivated, result.cleared_annotations) == (False, True, 3)
    assert "annotations were cleared" in result.message
    assert result.frame.id == first.frame.id
    assert result.frame.is_active and result.frame.still.is_active
    assert result.frame.updated_at > first.frame.updated_at
    assert _count(uow_factory, PictureClassificationAnnotation) == 0
    assert _count(uow_factory, PictureBBAnnotation) == 0
    assert _count(uow_factory, PictureClassificationPrediction) == 1
    assert _count(uow_factory, PictureBBPrediction) == 1
    assert _count(uow_factory, Frame) == 1


def test_list_and_delete_frames(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    late = _record(uow_factory, setup, timestamp_seconds=9.0, frame_number=270)
    early = _record(uow_factory, setup, timestamp_seconds=0.5, frame_number=15)
    listed = frames.list_frames(uow_factory, setup.doctor, setup.video_id)
    assert [f.id for f in listed] == [early.frame.id, late.frame.id]

    deleted = frames.delete_frame(uow_factory, setup.doctor, str(late.frame.id))
    assert deleted.is_active is False and deleted.still.is_active is False
    assert [f.id for f in frames.list_frames(uow_factory, setup.doctor, setup.video_id)] == [
        early.frame.id
    ]
    every = frames.list_frames(uow_factory, setup.doctor, setup.video_id, include_deleted=True)
    assert len(every) == 2
    with pytest.raises(NotFoundError, match="has been deleted"):
        frames.get_frame(uow_factory, setup.doctor, late.frame.id)
    assert frames.get_frame(uow_factory, setup.doctor, early.frame.id) == early.frame


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"timestamp_seconds": -1.0}, "0 s or later"),
        ({"timestamp_seconds": float("nan")}, "finite"),
        ({"frame_number": -1}, "frame number"),
        ({"width": 0}, "not a size in pixels"),
        ({"file_path": "still.jpg"}, "not a bare uuid4"),
        ({"file_size": 0}, "empty"),
    ],
)
def test_bad_frame_input_changes_nothing(
    uow_factory: UnitOfWorkFactory, setup: Setup, overrides: dict[str, Any], words: str
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=words):
        _record(uow_factory, setup, **overrides)
    assert store_snapshot(uow_factory) == before


def test_stills_come_from_videos_only(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="not a video"):
        still = frame_records.NewStill(1.0, 1, 10, 10, str(uuid.uuid4()), 10)
        frame_records.record_frames(uow_factory, setup.doctor, setup.image_id, [still])
    with pytest.raises(InvalidInputError, match="not a video"):
        frames.list_frames(uow_factory, setup.doctor, setup.image_id)
    assert store_snapshot(uow_factory) == before


def _new(seconds: float, key: str | None = None) -> frame_records.NewStill:
    return frame_records.NewStill(
        seconds, round(seconds * 25), 320, 240, key or str(uuid.uuid4()), 99
    )


def test_a_batch_of_stills_is_one_transaction_with_one_result_each(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    kept = _record(uow_factory, setup, timestamp_seconds=0.4)
    commits: list[object] = []
    event.listen(uow_factory.engine, "commit", lambda conn: commits.append(conn))
    batch = [_new(0.0), _new(0.4), _new(0.8), _new(0.8004), _new(1.2)]
    results = frame_records.record_frames(uow_factory, setup.doctor, setup.video_id, batch)
    assert len(commits) == 1
    assert [r.created for r in results] == [True, False, True, False, True]
    assert results[1].frame == kept.frame  # found, as one still at a time would
    assert results[3].frame == results[2].frame  # the batch's own earlier still is found too
    assert [r.frame.timestamp_seconds for r in results] == [0.0, 0.4, 0.8, 0.8, 1.2]
    listed = frames.list_frames(uow_factory, setup.doctor, setup.video_id)
    assert [f.timestamp_seconds for f in listed] == [0.0, 0.4, 0.8, 1.2]


@pytest.mark.parametrize("refused", ["bad value", "file used", "file twice"])
def test_a_refused_still_records_none_of_its_batch(
    uow_factory: UnitOfWorkFactory, setup: Setup, refused: str
) -> None:
    used = _record(uow_factory, setup, timestamp_seconds=9.0).frame.still.file_path
    batch = [_new(0.0), _new(0.4)]
    if refused == "bad value":
        batch.append(frame_records.NewStill(0.8, 20, 0, 240, str(uuid.uuid4()), 99))
    elif refused == "file used":
        batch.append(_new(0.8, used))
    else:
        batch.append(_new(0.8, batch[0].file_path))
    before = store_snapshot(uow_factory)
    error = InvalidInputError if refused == "bad value" else ConflictError
    with pytest.raises(error):
        frame_records.record_frames(uow_factory, setup.doctor, setup.video_id, batch)
    assert store_snapshot(uow_factory) == before
