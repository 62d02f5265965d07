"""The study browser's queries on SQLite and PostgreSQL: ordered ids, rows with their
annotation status, a study's media rows.

The statuses read ``frame_scores``, a local-store table: on the test's PostgreSQL (central tables
only) it is created here too, so the queries are checked on both databases.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest

from iamedic_desktop.core.errors import NotFoundError
from iamedic_desktop.core.settings import reset_settings_cache
from iamedic_desktop.models import MediaFile, MediaType, OutboxEntry, Study, User
from iamedic_desktop.models.local import FrameScores
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.study_browser import AiState, AnnotationStatus, StudySortKey
from iamedic_desktop.services import media_records, study_browser
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    CLASSIFIER_VERSION,
    actor_for,
    make_classification_prediction,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    make_usefulness,
    seeding,
)

START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
OTHER_VERSION = "frame_classifier_224x224 - 2"


def _seed_statuses(uow_factory: UnitOfWorkFactory) -> tuple[Actor, dict[str, uuid.UUID]]:
    """One study per situation the status rule distinguishes, created a minute apart."""
    ids: dict[str, uuid.UUID] = {}
    with seeding(uow_factory) as session:
        doctor = make_doctor(session)
        other = make_doctor(session)

        def study(alias: str, minute: int) -> Study:
            made = make_study(
                session, doctor, alias=alias, created_at=START + dt.timedelta(minutes=minute)
            )
            ids[alias] = made.id
            return made

        study("empty", 0)
        pending = study("pending image", 1)
        make_media(session, pending)
        scored = study("scored image", 2)
        make_classification_prediction(session, make_media(session, scored))
        labelled = study("labelled image", 3)
        make_usefulness(session, make_media(session, labelled), 0)
        # A video counts as annotated through a labelled active still (the still is labelled
        # too, so it is annotated itself).
        video_done = study("video with labelled still", 4)
        video = make_media(session, video_done, media_type=MediaType.VIDEO)
        frame = make_frame(session, video)
        still = session.get_one(type(video), frame.frame_media_id)
        make_usefulness(session, still)
        # A labelled still that was deleted does not annotate its video (nor count as media).
        video_gone = study("video with deleted still", 5)
        video2 = make_media(session, video_gone, media_type=MediaType.VIDEO)
        gone = make_frame(session, video2, is_active=False)
        make_usefulness(session, session.get_one(type(video2), gone.frame_media_id))
        # Deleted media do not count: this study is empty.
        deleted_media = study("only deleted media", 6)
        make_media(session, deleted_media, is_active=False)
        # Scored by an older classifier only.
        old = study("old scores", 7)
        make_classification_prediction(
            session, make_media(session, old), model_version=OTHER_VERSION
        )
        make_study(session, doctor, alias="deleted study", is_active=False)
        make_study(session, other, alias="someone else's")
    return actor_for(doctor), ids


def _statuses(rows: list[study_browser.StudyRowDTO]) -> dict[str, AnnotationStatus]:
    return {row.alias: row.status for row in rows}


@pytest.fixture(autouse=True)
def frame_scores_table(uow_factory: UnitOfWorkFactory) -> None:
    """``frame_scores`` exists and is empty, on PostgreSQL as on the local store."""
    table = FrameScores.__table__
    table.create(uow_factory.engine, checkfirst=True)  # type: ignore[attr-defined]
    with uow_factory.engine.begin() as conn:
        conn.execute(table.delete())  # type: ignore[attr-defined]


@pytest.fixture
def configured_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The workstation's settings name a classifier model version."""
    monkeypatch.setenv("IAMEDIC_CLASSIFIER_MODEL", CLASSIFIER_VERSION)
    reset_settings_cache()
    yield CLASSIFIER_VERSION
    reset_settings_cache()


def test_without_a_model_nothing_waits_for_the_ai(uow_factory: UnitOfWorkFactory) -> None:
    actor, ids = _seed_statuses(uow_factory)
    rows = study_browser.study_rows(uow_factory, actor, list(ids.values()))
    assert _statuses(rows) == {
        "empty": AnnotationStatus.EMPTY,
        "pending image": AnnotationStatus.NOT_ANNOTATED,  # what waits is a clinician
        "scored image": AnnotationStatus.NOT_ANNOTATED,
        "labelled image": AnnotationStatus.ANNOTATED,
        "video with labelled still": AnnotationStatus.ANNOTATED,
        "video with deleted still": AnnotationStatus.NOT_ANNOTATED,
        "only deleted media": AnnotationStatus.EMPTY,
        "old scores": AnnotationStatus.NOT_ANNOTATED,
    }
    ai = {row.alias: row.ai_state for row in rows}
    assert ai["pending image"] is AiState.NO_MODEL
    assert ai["video with deleted still"] is AiState.NO_MODEL
    assert ai["old scores"] is ai["scored image"] is AiState.SCORED  # any version's score counts
    assert AiState.NO_MODEL.label == "No model"
    assert "AI pending" not in {row.status.label for row in rows}


def test_rows_carry_the_status_the_rules_define(
    uow_factory: UnitOfWorkFactory, configured_model: str
) -> None:
    actor, ids = _seed_statuses(uow_factory)
    rows = study_browser.study_rows(uow_factory, actor, list(ids.values()))
    assert _statuses(rows) == {
        "empty": AnnotationStatus.EMPTY,
        "pending image": AnnotationStatus.AI_PENDING,
        "scored image": AnnotationStatus.NOT_ANNOTATED,
        "labelled image": AnnotationStatus.ANNOTATED,
        "video with labelled still": AnnotationStatus.ANNOTATED,
        "video with deleted still": AnnotationStatus.AI_PENDING,
        "only deleted media": AnnotationStatus.EMPTY,
        "old scores": AnnotationStatus.AI_PENDING,  # scored by another version only
    }
    by_alias = {row.alias: row for row in rows}
    assert by_alias["pending image"].ai_state is AiState.PENDING
    assert by_alias["scored image"].ai_state is AiState.SCORED
    assert by_alias["video with labelled still"].media_count == 2  # the video and its still
    assert by_alias["only deleted media"].media_count == 0
    assert (by_alias["pending image"].unlabelled, by_alias["pending image"].unscored) == (1, 1)
    assert by_alias["labelled image"].to_study().model_dump() == {
        k: v
        for k, v in by_alias["labelled image"].model_dump().items()
        if k not in {"status", "unlabelled", "unscored", "ai_state"}
    }

    current = study_browser.study_rows(
        uow_factory, actor, [ids["old scores"], ids["scored image"]], model_version=OTHER_VERSION
    )
    assert _statuses(current) == {
        "old scores": AnnotationStatus.NOT_ANNOTATED,
        "scored image": AnnotationStatus.AI_PENDING,  # its score is from another version
    }
    unset = study_browser.study_rows(uow_factory, actor, [ids["pending image"]], model_version=None)
    assert _statuses(unset) == {"pending image": AnnotationStatus.NOT_ANNOTATED}


def test_rows_follow_the_order_of_the_ids_and_skip_what_is_not_the_actors(
    uow_factory: UnitOfWorkFactory,
) -> None:
    actor, ids = _seed_statuses(uow_factory)
    with uow_factory() as uow:
        foreign = [s.id for s in uow.session.query(Study).filter(Study.doctor_id != actor.user_id)]
        deleted = [s.id for s in uow.session.query(Study).filter(Study.is_active.is_(False))]
    order = [ids["labelled image"], *foreign, ids["empty"], uuid.uuid4(), *deleted]
    rows = study_browser.study_rows(uow_factory, actor, order)
    assert [r.alias for r in rows] == ["labelled image", "empty"]
    assert study_browser.study_rows(uow_factory, actor, []) == []


def test_ids_are_searched_and_sorted_by_the_query(uow_factory: UnitOfWorkFactory) -> None:
    actor, ids = _seed_statuses(uow_factory)
    alias_of = {v.hex: k for k, v in ids.items()}

    def listed(**kwargs: object) -> list[str]:
        return [alias_of[i] for i in study_browser.list_study_ids(uow_factory, actor, **kwargs)]

    newest_first = listed()
    assert newest_first == [
        "old scores",
        "only deleted media",
        "video with deleted still",
        "video with labelled still",
        "labelled image",
        "scored image",
        "pending image",
        "empty",
    ]
    assert listed(sort_key=StudySortKey.CREATED, descending=False) == newest_first[::-1]
    assert listed(limit=3) == newest_first[:3]  # the head a view paints first
    assert listed(search="image", limit=2) == ["labelled image", "scored image"]
    assert listed(search="IMAGE") == ["labelled image", "scored image", "pending image"]
    assert listed(search="%") == []  # taken literally
    assert listed(sort_key="alias", descending=False) == sorted(newest_first)
    assert listed(sort_key="alias") == sorted(newest_first, reverse=True)
    by_media = listed(sort_key=StudySortKey.MEDIA)
    assert by_media[0] == "video with labelled still"  # the video and its still
    assert set(by_media[-2:]) == {"empty", "only deleted media"}
    by_status = listed(sort_key=StudySortKey.STATUS, descending=False)
    assert by_status == [
        "only deleted media",  # empty, newest first within a status
        "empty",
        "old scores",  # not annotated (no model: nothing waits for the AI)
        "video with deleted still",
        "scored image",
        "pending image",
        "video with labelled still",  # annotated
        "labelled image",
    ]
    by_status = listed(sort_key=StudySortKey.STATUS, descending=False, model_version=OTHER_VERSION)
    assert by_status == [
        "only deleted media",
        "empty",
        "video with deleted still",  # AI pending
        "scored image",
        "pending image",
        "old scores",  # not annotated
        "video with labelled still",  # annotated
        "labelled image",
    ]


def test_ids_by_update_time(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        doctor = make_doctor(session)
        first = make_study(session, doctor, alias="first")
        second = make_study(session, doctor, alias="second")
        first.updated_at = START + dt.timedelta(days=2)
        second.updated_at = START + dt.timedelta(days=1)
    actor = actor_for(doctor)
    assert study_browser.list_study_ids(uow_factory, actor, sort_key="updated") == [
        study_browser.study_key(first.id),
        study_browser.study_key(second.id),
    ]
    head = study_browser.list_study_ids(uow_factory, actor, sort_key="updated", limit=1)
    assert head == [first.id.hex]


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_many_ids_in_one_call(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        doctor = make_doctor(session)
        for n in range(1200):
            make_study(session, doctor, alias=f"S{n:04d}", created_at=START + dt.timedelta(n))
    actor = actor_for(doctor)
    ids = study_browser.list_study_ids(uow_factory, actor)
    assert len(ids) == 1200
    rows = study_browser.study_rows(uow_factory, actor, ids)  # more than one IN list
    assert [r.alias for r in rows] == [f"S{n:04d}" for n in range(1199, -1, -1)]


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)  # media_files: local only
def test_media_rows_of_a_study(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        doctor: User = make_doctor(session)
        study = make_study(session, doctor, alias="Scan")
        image = make_media(session, study, filename="a.png", file_size=2048)
        make_classification_prediction(session, image)
        video = make_media(session, study, media_type=MediaType.VIDEO, filename="loop.mp4")
        probe = {"duration": 2.0, "fps": 25.0, "frame_count": 50, "width": 320, "height": 240}
        probe |= {"display_width": 240, "display_height": 320}
        session.add(
            MediaFile(
                file_path=video.file_path, sha256="0" * 64, size=1, probe_json=json.dumps(probe)
            )
        )
        labelled = make_frame(session, video, timestamp_seconds=0.4, frame_number=10)
        make_frame(session, video, timestamp_seconds=0.8, frame_number=20)
        make_usefulness(session, session.get_one(type(video), labelled.frame_media_id))
        make_media(session, study, filename="gone.png", is_active=False)
        other_study = make_study(session, make_doctor(session), alias="Theirs")
    actor = actor_for(doctor)

    rows = study_browser.media_rows(uow_factory, actor, study.id)
    assert [(r.media.filename, r.media.media_type) for r in rows[:2]] == [
        ("a.png", MediaType.IMAGE),
        ("loop.mp4", MediaType.VIDEO),
    ]
    assert [r.media.media_type for r in rows[2:]] == [MediaType.FRAME, MediaType.FRAME]
    picture, clip, still_done, still_open = rows
    assert (picture.status, picture.duration, picture.media.file_size) == (
        AnnotationStatus.NOT_ANNOTATED,
        None,
        2048,
    )
    assert clip.status is AnnotationStatus.ANNOTATED
    assert (clip.duration, clip.fps, clip.frame_count, clip.width, clip.height) == (
        2.0,
        25.0,
        50,
        240,
        320,
    )
    assert (clip.stills, clip.labelled_stills) == (2, 1)
    assert still_done.status is AnnotationStatus.ANNOTATED
    assert still_open.status is AnnotationStatus.NOT_ANNOTATED  # no model: a clinician's turn
    assert (still_open.ai_state, picture.ai_state) == (AiState.NO_MODEL, AiState.SCORED)
    # Stills read as their time and frame; the other media keep their file names.
    assert [r.media.readable_name for r in rows] == [
        "a.png",
        "loop.mp4",
        "Still at 0:00.400 (frame 10)",
        "Still at 0:00.800 (frame 20)",
    ]
    assert study_browser.media_rows(uow_factory, actor, "Scan") == rows

    with pytest.raises(NotFoundError):
        study_browser.media_rows(uow_factory, actor, other_study.id)


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)  # media_files: local only
def test_a_still_from_elsewhere_is_named_by_its_timestamp(
    uow_factory: UnitOfWorkFactory, configured_model: str
) -> None:
    """The web's frame_number is no frame index: the name's frame comes from the timestamp."""
    with seeding(uow_factory) as session:
        doctor: User = make_doctor(session)
        study = make_study(session, doctor, alias="Scan")
        video = make_media(session, study, media_type=MediaType.VIDEO, filename="loop.mp4")
        probe = {"duration": 2.0, "fps": 30.0, "frame_count": 60, "is_vfr": False}
        session.add(
            MediaFile(
                file_path=video.file_path, sha256="0" * 64, size=1, probe_json=json.dumps(probe)
            )
        )
        # Written by the web's manual extraction: frame_number is its count of stills + 1.
        web = make_frame(session, video, timestamp_seconds=0.167, frame_number=1)
        mine = make_frame(session, video, timestamp_seconds=1.0, frame_number=30)
    with seeding(uow_factory) as session:  # the web's row came in by sync: not in the outbox
        for entry in session.query(OutboxEntry).filter(OutboxEntry.row_id == web.id):
            session.delete(entry)
    actor = actor_for(doctor)

    rows = study_browser.media_rows(uow_factory, actor, study.id)
    names = {r.media.id: r.media.readable_name for r in rows}
    assert names[web.frame_media_id] == "Still at 0:00.167 (frame 5)"
    assert names[mine.frame_media_id] == "Still at 0:01.000 (frame 30)"
    assert {r.ai_state for r in rows} == {AiState.PENDING}
    assert {r.status for r in rows} == {AnnotationStatus.AI_PENDING}
    # The CLI's listing names them the same way.
    listed = media_records.list_media(uow_factory, actor, "Scan", media_type="frame")
    assert {m.id: m.readable_name for m in listed} == {
        web.frame_media_id: "Still at 0:00.167 (frame 5)",
        mine.frame_media_id: "Still at 0:01.000 (frame 30)",
    }


def test_a_video_is_scored_by_its_frame_scores_of_the_version(
    uow_factory: UnitOfWorkFactory, configured_model: str
) -> None:
    with seeding(uow_factory) as session:
        doctor: User = make_doctor(session)
        pending = make_study(session, doctor, alias="pending", created_at=START)
        scored = make_study(
            session, doctor, alias="scored", created_at=START + dt.timedelta(minutes=1)
        )
        videos = {
            study.alias: make_media(session, study, media_type=MediaType.VIDEO)
            for study in (pending, scored)
        }
        # Frame scores of another version, and of this one for the other study's video only.
        session.add(
            FrameScores(
                video_media_id=videos["pending"].id,
                model_version=OTHER_VERSION,
                frame_count=1,
                scores=b"\x00\x00\x80\x3f",
            )
        )
        session.add(
            FrameScores(
                video_media_id=videos["scored"].id,
                model_version=configured_model,
                frame_count=1,
                scores=b"\x00\x00\x80\x3f",
            )
        )
    actor = actor_for(doctor)

    rows = {
        r.alias: r for r in study_browser.study_rows(uow_factory, actor, [pending.id, scored.id])
    }
    assert (rows["pending"].status, rows["pending"].unscored) == (AnnotationStatus.AI_PENDING, 1)
    assert (rows["scored"].status, rows["scored"].unscored) == (AnnotationStatus.NOT_ANNOTATED, 0)
    assert rows["scored"].ai_state is AiState.SCORED
    by_status = study_browser.list_study_ids(
        uow_factory, actor, sort_key="status", descending=False
    )
    assert by_status == [pending.id.hex, scored.id.hex]  # AI pending comes before not annotated
    other = study_browser.study_rows(uow_factory, actor, [scored.id], model_version=OTHER_VERSION)
    assert other[0].ai_state is AiState.PENDING  # scored by another version only
    anyone = study_browser.study_rows(uow_factory, actor, [pending.id], model_version=None)
    assert anyone[0].unscored == 0  # no model: any version's scores count
