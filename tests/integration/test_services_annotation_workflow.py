"""The previous annotated frame or image, whose boxes the window copies (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.models import Frame, Media, MediaType
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.schemas.actor import Actor
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


def _video_with_stills(
    uow_factory: UnitOfWorkFactory, *, probe: bool
) -> tuple[Media, dict[str, Frame], Actor]:
    """A 30 fps video (its probe recorded when ``probe``) and stills at frames 3 to 60."""
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
        video = make_media(session, study, media_type=MediaType.VIDEO)
        if probe:
            timing = json.dumps({"fps": 30.0, "frame_count": 90, "is_vfr": False})
            session.add(
                MediaFile(file_path=video.file_path, sha256="0" * 64, size=1, probe_json=timing)
            )
        stills = {
            "early": make_frame(session, video, timestamp_seconds=0.1, frame_number=3),
            "middle": make_frame(session, video, timestamp_seconds=0.5, frame_number=15),
            "unannotated": make_frame(session, video, timestamp_seconds=0.6, frame_number=18),
            "deleted": make_frame(
                session, video, timestamp_seconds=0.7, frame_number=21, is_active=False
            ),
            "later": make_frame(session, video, timestamp_seconds=2.0, frame_number=60),
        }
        still = session.get(type(video), stills["early"].frame_media_id)
        assert still is not None
        make_box(session, still, bb_class="NT", box=(1.0, 2.0, 30.0, 40.0), is_hidden=True)
        for name in ("middle", "deleted", "later"):
            other = session.get(type(video), stills[name].frame_media_id)
            assert other is not None
            make_box(session, other, bb_class="CM", box=(5.0, 6.0, 20.0, 20.0))
    return video, stills, actor_for(user)


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)  # media_files: local only
def test_previous_still_of_a_video(uow_factory: UnitOfWorkFactory) -> None:
    video, stills, actor = _video_with_stills(uow_factory, probe=True)

    # A frame without a still yet: addressed by the video and its frame number.
    found = previous_annotated_boxes(uow_factory, actor, video.id, frame_number=30)
    assert found is not None
    # The deleted still at 21 and the still at 18 (no box) are skipped.
    assert (found.source_media_id, found.frame_number) == (stills["middle"].frame_media_id, 15)
    assert [(b.bb_class, b.x_min, b.width) for b in found.boxes] == [("CM", 5.0, 20.0)]

    # A still: the one before it, with hidden boxes as they are.
    from_still = previous_annotated_boxes(uow_factory, actor, stills["unannotated"].frame_media_id)
    assert from_still is not None and from_still.frame_number == 15
    first = previous_annotated_boxes(uow_factory, actor, video.id, frame_number=15)
    assert first is not None and first.frame_number == 3
    assert [(b.bb_class, b.is_hidden) for b in first.boxes] == [("NT", True)]
    assert previous_annotated_boxes(uow_factory, actor, stills["early"].frame_media_id) is None


def test_without_frame_timing_a_still_finds_the_previous_one_by_its_timestamp(
    uow_factory: UnitOfWorkFactory,
) -> None:
    video, stills, actor = _video_with_stills(uow_factory, probe=False)
    from_still = previous_annotated_boxes(uow_factory, actor, stills["unannotated"].frame_media_id)
    assert from_still is not None
    assert (from_still.source_media_id, from_still.frame_number) == (
        stills["middle"].frame_media_id,
        None,  # the frame is not known: the window names the still instead
    )
    # A video frame cannot be placed among the stills without the video's frame timing.
    assert previous_annotated_boxes(uow_factory, actor, video.id, frame_number=30) is None


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
