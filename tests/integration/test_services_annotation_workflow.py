"""The previous annotated frame or image, whose boxes the window copies (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.models import MediaType
from iamedic_desktop.services.annotation_workflow import previous_annotated_boxes
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_box,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    seeding,
)


def test_previous_still_of_a_video(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
        video = make_media(session, study, media_type=MediaType.VIDEO)
        early = make_frame(session, video, timestamp_seconds=0.1, frame_number=3)
        middle = make_frame(session, video, timestamp_seconds=0.5, frame_number=15)
        unannotated = make_frame(session, video, timestamp_seconds=0.6, frame_number=18)
        deleted = make_frame(
            session, video, timestamp_seconds=0.7, frame_number=21, is_active=False
        )
        later = make_frame(session, video, timestamp_seconds=2.0, frame_number=60)
        still = session.get(type(video), early.frame_media_id)
        assert still is not None
        make_box(session, still, bb_class="NT", box=(1.0, 2.0, 30.0, 40.0), is_hidden=True)
        for frame in (middle, deleted, later):
            other = session.get(type(video), frame.frame_media_id)
            assert other is not None
            make_box(session, other, bb_class="CM", box=(5.0, 6.0, 20.0, 20.0))
    actor = actor_for(user)

    # A frame without a still yet: addressed by the video and its frame number.
    found = previous_annotated_boxes(uow_factory, actor, video.id, frame_number=30)
    assert found is not None
    # The deleted still at 21 and the still at 18 (no box) are skipped.
    assert (found.source_media_id, found.frame_number) == (middle.frame_media_id, 15)
    assert [(b.bb_class, b.x_min, b.width) for b in found.boxes] == [("CM", 5.0, 20.0)]

    # A still: the one before it, with hidden boxes as they are.
    from_still = previous_annotated_boxes(uow_factory, actor, unannotated.frame_media_id)
    assert from_still is not None and from_still.frame_number == 15
    first = previous_annotated_boxes(uow_factory, actor, video.id, frame_number=15)
    assert first is not None and first.frame_number == 3
    assert [(b.bb_class, b.is_hidden) for b in first.boxes] == [("NT", True)]
    assert previous_annotated_boxes(uow_factory, actor, early.frame_media_id) is None


def test_previous_image_of_a_study(uow_factory: UnitOfWorkFactory) -> None:
    base = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
        other_study = make_study(session, user)
        images = [make_media(session, study, filename=f"img{i}.png") for i in range(4)]
        elsewhere = make_media(session, other_study, filename="other.png")
        for i, image in enumerate(images):
            image.created_at = base + dt.timedelta(minutes=i)
        elsewhere.created_at = base + dt.timedelta(minutes=2, seconds=30)
        make_box(session, images[0], bb_class="palate")
        make_box(session, images[1], bb_class="thalami")
        make_box(session, elsewhere, bb_class="IT")
    actor = actor_for(user)

    found = previous_annotated_boxes(uow_factory, actor, images[3].id)
    assert found is not None
    # images[2] has no box and the other study's image is not this study's.
    assert (found.source_filename, found.frame_number) == ("img1.png", None)
    assert [b.bb_class for b in found.boxes] == ["thalami"]
    assert previous_annotated_boxes(uow_factory, actor, images[0].id) is None


def test_refusals(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        stranger = make_doctor(session)
        study = make_study(session, user)
        video = make_media(session, study, media_type=MediaType.VIDEO)
    with pytest.raises(InvalidInputError, match="frame number"):
        previous_annotated_boxes(uow_factory, actor_for(user), video.id)
    with pytest.raises(InvalidInputError, match="frame number"):
        previous_annotated_boxes(uow_factory, actor_for(user), video.id, frame_number=-1)
    with pytest.raises(NotFoundError):
        previous_annotated_boxes(uow_factory, actor_for(stranger), video.id, frame_number=3)
