"""Every permission rule, on SQLite and PostgreSQL, with the store checked unchanged.

Policy under test: another doctor's object answers NotFoundError exactly like a missing one;
a missing role, approval or an inactive account answers PermissionDeniedError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import NotFoundError, PermissionDeniedError
from iamedic_desktop.models import DoctorProfile, DoctorStatus, Media, MediaType, Role, User
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.predictions import BoxPredictionIn
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services import (
    doctor_profiles,
    frame_records,
    frames,
    media_records,
    predictions,
    studies,
    users,
)
from iamedic_desktop.services.permissions import (
    check_study_ownership,
    load_annotation_for_actor,
    load_frame_for_actor,
    load_media_for_actor,
    load_prediction_for_actor,
    load_study_for_actor,
    require_admin_role,
    require_doctor_role,
)
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    CLASSIFIER_VERSION,
    actor_for,
    make_admin,
    make_box,
    make_box_prediction,
    make_classification_prediction,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    make_usefulness,
    make_user,
    seeding,
    store_snapshot,
)


@dataclass(frozen=True)
class World:
    """Two doctors; the owner has a study with an image, a video and a still, all annotated."""

    owner: Actor
    intruder: Actor
    study_id: uuid.UUID
    image_id: uuid.UUID
    video_id: uuid.UUID
    frame_id: uuid.UUID
    still_id: uuid.UUID
    prediction_ids: tuple[uuid.UUID, uuid.UUID]
    annotation_ids: tuple[uuid.UUID, uuid.UUID]
    profile_id: uuid.UUID


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> World:
    with seeding(uow_factory) as session:
        owner = make_doctor(session)
        intruder = make_doctor(session)
        applicant = make_user(session, doctor_status=DoctorStatus.PENDING.value)
        study = make_study(session, owner, alias="Owned")
        make_study(session, intruder, alias="Intruder's")
        image = make_media(session, study)
        video = make_media(session, study, media_type=MediaType.VIDEO)
        frame = make_frame(session, video)
        still = session.get_one(Media, frame.frame_media_id)
        classification = make_classification_prediction(session, still)
        box_prediction = make_box_prediction(session, still)
        label = make_usefulness(session, still)
        box = make_box(session, still)
        profile_id = session.scalars(
            select(DoctorProfile.id).where(DoctorProfile.user_id == applicant.id)
        ).one()
    return World(
        owner=actor_for(owner),
        intruder=actor_for(intruder),
        study_id=study.id,
        image_id=image.id,
        video_id=video.id,
        frame_id=frame.id,
        still_id=still.id,
        prediction_ids=(classification.id, box_prediction.id),
        annotation_ids=(label.id, box.id),
        profile_id=profile_id,
    )


# --- the role checks themselves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "status", "active", "words"),
    [
        ((Role.DOCTOR.value,), DoctorStatus.APPROVED.value, None, None),
        ((Role.DOCTOR.value,), DoctorStatus.PENDING.value, True, "waiting for an administrator"),
        ((Role.DOCTOR.value,), DoctorStatus.DENIED.value, True, "was denied"),
        ((), DoctorStatus.APPROVED.value, True, "does not hold the doctor role"),
        ((Role.DOCTOR.value,), None, True, "no doctor registration"),
        ((Role.ADMIN.value,), None, True, "no doctor registration"),
        ((), None, True, "no doctor registration"),
        ((Role.DOCTOR.value,), DoctorStatus.APPROVED.value, False, "deactivated"),
    ],
)
def test_require_doctor_role(
    uow_factory: UnitOfWorkFactory,
    roles: tuple[str, ...],
    status: str | None,
    active: bool | None,
    words: str | None,
) -> None:
    with seeding(uow_factory) as session:
        actor = actor_for(make_user(session, roles=roles, doctor_status=status, is_active=active))
    with uow_factory() as uow:
        if words is None:  # NULL is_active counts as active
            assert require_doctor_role(uow.session, actor).id == actor.user_id
        else:
            with pytest.raises(PermissionDeniedError, match=words):
                require_doctor_role(uow.session, actor)


def test_require_admin_role(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        admin = actor_for(make_admin(session))
        doctor = actor_for(make_doctor(session))
        inactive_admin = actor_for(make_admin(session, is_active=False))
    unknown = Actor(user_id=uuid.uuid4(), email="ghost@example.org", name="Ghost")
    with uow_factory() as uow:
        assert require_admin_role(uow.session, admin).id == admin.user_id
        with pytest.raises(PermissionDeniedError, match="admin role"):
            require_admin_role(uow.session, doctor)
        with pytest.raises(PermissionDeniedError, match="deactivated"):
            require_admin_role(uow.session, inactive_admin)
        with pytest.raises(PermissionDeniedError, match="not known"):
            require_admin_role(uow.session, unknown)


def test_roles_are_reread_on_every_call(uow_factory: UnitOfWorkFactory, world: World) -> None:
    studies.get_study(uow_factory, world.owner, "Owned")
    with seeding(uow_factory) as session:
        session.get_one(User, world.owner.user_id).is_active = False
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        studies.get_study(uow_factory, world.owner, "Owned")


# --- loaders: another doctor's objects are "not found" ----------------------------------------


def test_loaders_return_own_objects(uow_factory: UnitOfWorkFactory, world: World) -> None:
    with uow_factory() as uow:
        s, me = uow.session, world.owner
        study = load_study_for_actor(s, me, world.study_id)
        check_study_ownership(s, me, study)
        assert load_media_for_actor(s, me, world.image_id).id == world.image_id
        assert load_frame_for_actor(s, me, world.frame_id).id == world.frame_id
        for pid in world.prediction_ids:
            assert load_prediction_for_actor(s, me, pid).id == pid
        for aid in world.annotation_ids:
            assert load_annotation_for_actor(s, me, str(aid)).id == aid


def test_loaders_hide_other_doctors_objects(uow_factory: UnitOfWorkFactory, world: World) -> None:
    with uow_factory() as uow:
        s, other = uow.session, world.intruder
        study = load_study_for_actor(s, world.owner, world.study_id)
        with pytest.raises(NotFoundError, match="not found among your studies"):
            check_study_ownership(s, other, study)
        loaders: list[tuple[Callable[..., Any], uuid.UUID]] = [
            (load_study_for_actor, world.study_id),
            (load_media_for_actor, world.image_id),
            (load_media_for_actor, world.still_id),
            (load_frame_for_actor, world.frame_id),
            *[(load_prediction_for_actor, p) for p in world.prediction_ids],
            *[(load_annotation_for_actor, a) for a in world.annotation_ids],
        ]
        for loader, row_id in loaders:
            absent_id = uuid.uuid4()
            with pytest.raises(NotFoundError) as hidden:
                loader(s, other, row_id)
            with pytest.raises(NotFoundError) as missing:
                loader(s, other, absent_id)
            # Same wording as a missing object: nothing leaks about the other doctor's data.
            assert str(hidden.value).replace(str(row_id), "<id>") == str(missing.value).replace(
                str(absent_id), "<id>"
            )


# --- services: another doctor can neither read nor change -------------------------------------


def _intruder_calls(w: World) -> list[tuple[str, Callable[[UnitOfWorkFactory], object]]]:
    me = w.intruder
    box = BoxPredictionIn(bb_class="NT", confidence=0.9, x_min=1, y_min=1, width=20, height=20)
    return [
        ("get study", lambda u: studies.get_study(u, me, str(w.study_id))),
        ("rename study", lambda u: studies.rename_study(u, me, str(w.study_id), "Mine")),
        ("delete study", lambda u: studies.delete_study(u, me, str(w.study_id))),
        ("restore study", lambda u: studies.restore_study(u, me, str(w.study_id))),
        ("list media", lambda u: media_records.list_media(u, me, w.study_id)),
        ("get media", lambda u: media_records.get_media(u, me, w.image_id)),
        ("rename media", lambda u: media_records.rename_media(u, me, w.image_id, "x.png")),
        ("delete media", lambda u: media_records.delete_media(u, me, w.image_id)),
        ("upload status", lambda u: media_records.set_upload_status(u, me, w.image_id, "failed")),
        (
            "add media",
            lambda u: media_records.create_media(
                u,
                me,
                w.study_id,
                filename="x.png",
                file_path=str(uuid.uuid4()),
                file_size=10,
                mime_type="image/png",
            ),
        ),
        ("list frames", lambda u: frames.list_frames(u, me, w.video_id)),
        ("get frame", lambda u: frames.get_frame(u, me, w.frame_id)),
        ("delete frame", lambda u: frames.delete_frame(u, me, w.frame_id)),
        ("find frame", lambda u: frames.find_frame(u, me, w.video_id, 1.5)),
        (
            "record frame",
            lambda u: frame_records.record_frames(
                u,
                me,
                w.video_id,
                [frame_records.NewStill(2.0, 60, 640, 480, str(uuid.uuid4()), 100)],
            ),
        ),
        ("list predictions", lambda u: predictions.list_predictions(u, me, w.still_id)),
        (
            "store prediction",
            lambda u: predictions.store_classification_prediction(
                u, me, w.still_id, prediction=0.1, model_version=CLASSIFIER_VERSION
            ),
        ),
        (
            "store boxes",
            lambda u: predictions.store_box_predictions(
                u, me, w.still_id, model_version="boxes - 1", boxes=[box]
            ),
        ),
        ("get annotations", lambda u: annotation_service.get_annotations(u, me, w.still_id)),
        ("set usefulness", lambda u: annotation_service.set_usefulness(u, me, w.still_id, 0)),
        ("clear usefulness", lambda u: annotation_service.clear_usefulness(u, me, w.still_id)),
        (
            "add box",
            lambda u: annotation_service.add_box(
                u, me, w.still_id, bb_class="NT", x_min=1, y_min=1, width=20, height=20
            ),
        ),
        (
            "move box",
            lambda u: annotation_service.update_box(
                u, me, w.still_id, "CM", x_min=1, y_min=1, width=20, height=20
            ),
        ),
        ("hide box", lambda u: annotation_service.set_box_hidden(u, me, w.still_id, "CM", True)),
        ("delete box", lambda u: annotation_service.delete_box(u, me, w.still_id, "CM")),
    ]


def test_another_doctor_can_neither_read_nor_change(
    uow_factory: UnitOfWorkFactory, world: World
) -> None:
    before = store_snapshot(uow_factory)
    for name, call in _intruder_calls(world):
        with pytest.raises(NotFoundError):
            call(uow_factory)
        assert store_snapshot(uow_factory) == before, name
    listed = studies.list_studies(uow_factory, world.intruder)
    assert [s.alias for s in listed.items] == ["Intruder's"]


@pytest.mark.parametrize(
    ("roles", "status"),
    [
        ((Role.DOCTOR.value,), DoctorStatus.PENDING.value),
        ((Role.DOCTOR.value,), DoctorStatus.DENIED.value),
        ((), DoctorStatus.APPROVED.value),
        ((Role.ADMIN.value,), None),
    ],
    ids=["pending", "denied", "no-doctor-role", "admin-only"],
)
def test_users_without_doctor_access_cannot_do_doctor_work(
    uow_factory: UnitOfWorkFactory, world: World, roles: tuple[str, ...], status: str | None
) -> None:
    with seeding(uow_factory) as session:
        actor = actor_for(make_user(session, roles=roles, doctor_status=status))
    before = store_snapshot(uow_factory)
    doctor_calls: list[Callable[[], object]] = [
        lambda: studies.create_study(uow_factory, actor, "Mine"),
        lambda: studies.list_studies(uow_factory, actor),
        lambda: studies.get_study(uow_factory, actor, "Owned"),
        lambda: media_records.get_media(uow_factory, actor, world.image_id),
        lambda: annotation_service.set_usefulness(uow_factory, actor, world.still_id, 1),
        lambda: predictions.list_predictions(uow_factory, actor, world.still_id),
        lambda: frames.list_frames(uow_factory, actor, world.video_id),
    ]
    for call in doctor_calls:
        with pytest.raises(PermissionDeniedError, match="This needs doctor access"):
            call()
    assert store_snapshot(uow_factory) == before


def test_non_admins_cannot_manage_users_or_profiles(
    uow_factory: UnitOfWorkFactory, world: World
) -> None:
    doctor = world.owner
    before = store_snapshot(uow_factory)
    admin_calls: list[Callable[[], object]] = [
        lambda: users.list_users(uow_factory, doctor),
        lambda: users.get_user(uow_factory, doctor, world.intruder.user_id),
        lambda: users.grant_role(uow_factory, doctor, doctor.user_id, "admin"),
        lambda: users.revoke_role(uow_factory, doctor, world.intruder.user_id, "doctor"),
        lambda: users.set_user_active(uow_factory, doctor, world.intruder.user_id, False),
        lambda: doctor_profiles.list_doctor_profiles(uow_factory, doctor),
        lambda: doctor_profiles.approve_doctor_profile(uow_factory, doctor, world.profile_id),
        lambda: doctor_profiles.deny_doctor_profile(uow_factory, doctor, world.profile_id),
    ]
    for call in admin_calls:
        with pytest.raises(PermissionDeniedError, match="needs an administrator"):
            call()
    assert store_snapshot(uow_factory) == before


def test_an_inactive_user_is_refused_everything(uow_factory: UnitOfWorkFactory) -> None:
    with seeding(uow_factory) as session:
        actor = actor_for(
            make_user(
                session,
                roles=(Role.ADMIN.value, Role.DOCTOR.value),
                doctor_status=DoctorStatus.APPROVED.value,
                is_active=False,
            )
        )
    before = store_snapshot(uow_factory)
    calls: list[Callable[[], object]] = [
        lambda: users.get_current_user_info(uow_factory, actor),
        lambda: users.list_users(uow_factory, actor),
        lambda: studies.create_study(uow_factory, actor, "Mine"),
        lambda: doctor_profiles.get_own_doctor_profile(uow_factory, actor),
        lambda: doctor_profiles.register_doctor_profile(
            uow_factory, actor, matriculation_id="M-1", legal_name="A", specialization="B"
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError, match="deactivated"):
            call()
    assert store_snapshot(uow_factory) == before
