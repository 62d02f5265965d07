"""Who may do what: roles, doctor approval, ownership, and loading objects for the actor.

Every check re-reads the user, roles and profile in the caller's session, so a role revoked or
an account deactivated elsewhere takes effect on the next call.

Policy for other doctors' objects: a study, media, frame, prediction or annotation that belongs
to another doctor raises NotFoundError with the same message as one that does not exist. An
actor never learns that someone else's object exists (patient data), an alias only ever
resolves among the actor's own studies, and the web backend answers 404 the same way.
PermissionDeniedError is kept for what the actor lacks: an active account, the admin role, or
doctor access (the ``doctor`` role and an approved profile).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from iamedic_desktop.models import (
    DoctorProfile,
    DoctorStatus,
    Frame,
    Media,
    PictureBBAnnotation,
    PictureBBPrediction,
    PictureClassificationAnnotation,
    PictureClassificationPrediction,
    Role,
    Study,
    User,
    UserRole,
)
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services.validation import (
    alias_spellings,
    looks_like_uuid,
    parse_id,
    try_parse_uuid,
)

_NEED_DOCTOR = "This needs doctor access: "


# --- queries ----------------------------------------------------------------------------------


def roles_of(session: Session, user_id: uuid.UUID) -> set[str]:
    """The role names a user holds, read from the store now."""
    return set(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def profile_of(session: Session, user_id: uuid.UUID) -> DoctorProfile | None:
    """The user's doctor profile, if they registered."""
    return session.scalars(
        select(DoctorProfile).where(DoctorProfile.user_id == user_id)
    ).one_or_none()


def _studies_by_alias(session: Session, doctor_id: uuid.UUID, ref: str) -> list[Study]:
    """The doctor's studies whose alias is ``ref`` as typed, compared normalised."""
    return list(
        session.scalars(
            select(Study)
            .where(Study.doctor_id == doctor_id, Study.alias.in_(alias_spellings(ref)))
            .order_by(Study.id)
        )
    )


# --- roles ------------------------------------------------------------------------------------


def require_active_user(session: Session, actor: Actor) -> User:
    """The actor's user row; refused when it is gone or explicitly deactivated."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise PermissionDeniedError(
            f"The account {actor.email} is not known to this store; sign in again."
        )
    if user.is_active is False:  # NULL means active, as on the web
        raise PermissionDeniedError(
            f"The account {actor.email} has been deactivated; ask an administrator."
        )
    return user


def require_doctor_role(session: Session, actor: Actor) -> User:
    """Doctor access: the ``doctor`` role AND an approved profile (admin does not imply it)."""
    user = require_active_user(session, actor)
    has_role = Role.DOCTOR.value in roles_of(session, user.id)
    profile = profile_of(session, user.id)
    status = profile.status if profile is not None else None
    if has_role and status == DoctorStatus.APPROVED.value:
        return user
    if status is None:
        reason = "you have no doctor registration; register and wait for an administrator."
    elif status == DoctorStatus.PENDING.value:
        reason = "your doctor registration is still waiting for an administrator's approval."
    elif status == DoctorStatus.DENIED.value:
        reason = "your doctor registration was denied."
    else:
        reason = "your account does not hold the doctor role; ask an administrator."
    raise PermissionDeniedError(_NEED_DOCTOR + reason)


def require_admin_role(session: Session, actor: Actor) -> User:
    """Admin access: an active account holding the ``admin`` role."""
    user = require_active_user(session, actor)
    if Role.ADMIN.value not in roles_of(session, user.id):
        raise PermissionDeniedError(
            "This needs an administrator: your account does not hold the admin role."
        )
    return user


# --- ownership and loading --------------------------------------------------------------------


def check_study_ownership(session: Session, actor: Actor, study: Study) -> None:
    """Refuse (as not found, see the module policy) a study of another doctor."""
    if study.doctor_id != actor.user_id:
        raise NotFoundError(f"The study {study.id} was not found among your studies.")


def load_study_for_actor(
    session: Session, actor: Actor, study_id: object, *, include_deleted: bool = False
) -> Study:
    """The actor's study with this id; a deleted one only when ``include_deleted``."""
    parsed = parse_id(study_id, what="study")
    study = session.get(Study, parsed)
    if study is None:
        raise NotFoundError(f"The study {parsed} was not found among your studies.")
    check_study_ownership(session, actor, study)
    _refuse_deleted_study(study, include_deleted)
    return study


def find_study_for_actor(
    session: Session, actor: Actor, study_ref: object, *, include_deleted: bool = False
) -> Study:
    """The actor's study named by ``study_ref``: its id (UUID or text) or its alias.

    Both readings are always tried, so an id never shadows an alias nor an alias an id: new
    aliases cannot be spelled like ids, but the web accepts any, and a text naming two
    studies is refused with both named rather than resolved by guess.
    """
    if isinstance(study_ref, uuid.UUID):
        return load_study_for_actor(session, actor, study_ref, include_deleted=include_deleted)
    if not isinstance(study_ref, str) or not study_ref.strip():
        raise InvalidInputError("Name a study by its alias or its id.")
    ref = study_ref.strip()
    parsed = try_parse_uuid(ref)
    by_id = session.get(Study, parsed) if parsed is not None else None
    if by_id is not None and by_id.doctor_id != actor.user_id:
        by_id = None  # another doctor's: as if it did not exist (module policy)
    by_alias = [s for s in _studies_by_alias(session, actor.user_id, ref) if s is not by_id]
    if len(by_alias) + (by_id is not None) > 1:
        raise InvalidInputError(_ambiguous(ref, by_id, by_alias))
    study = by_id or (by_alias[0] if by_alias else None)
    if study is None:
        if parsed is None and looks_like_uuid(ref):
            raise InvalidInputError(
                f"'{ref}' looks like a study id but is not a valid one (an id has 32 "
                "hexadecimal digits), and no study of yours has that alias."
            )
        raise NotFoundError(f"No study of yours has the alias or id '{ref}'.")
    _refuse_deleted_study(study, include_deleted)
    return study


def _ambiguous(ref: str, by_id: Study | None, by_alias: list[Study]) -> str:
    named = [f"the study '{by_id.alias}' by its id"] if by_id is not None else []
    named += [f"the study {s.id} by its alias" for s in by_alias]
    count = "two" if len(named) == 2 else str(len(named))
    return (
        f"'{ref}' names {count} of your studies: {', and '.join(named)}. Name the one you "
        "mean by its other name (its alias, or its id), and rename the study whose alias is "
        "in doubt."
    )


def _refuse_deleted_study(study: Study, include_deleted: bool) -> None:
    if not study.is_active and not include_deleted:
        raise NotFoundError(f"The study '{study.alias}' has been deleted; restore it to use it.")


def load_media_for_actor(
    session: Session, actor: Actor, media_id: object, *, include_deleted: bool = False
) -> Media:
    """The actor's media row; deleted media, or media of a deleted study, only on request."""
    parsed = parse_id(media_id, what="media")
    found = _owned_media(session, actor, parsed)
    if found is None:
        raise NotFoundError(f"The media {parsed} was not found among your studies.")
    media, study = found
    if not include_deleted:
        _refuse_deleted_study(study, include_deleted=False)
        if not media.is_active:
            raise NotFoundError(f"The media '{media.filename}' has been deleted.")
    return media


def load_frame_for_actor(
    session: Session, actor: Actor, frame_id: object, *, include_deleted: bool = False
) -> Frame:
    """The actor's frame (a still taken from one of their videos)."""
    parsed = parse_id(frame_id, what="frame")
    frame = session.get(Frame, parsed)
    found = _owned_media(session, actor, frame.video_media_id) if frame is not None else None
    if frame is None or found is None:
        raise NotFoundError(f"The frame {parsed} was not found among your studies.")
    if not include_deleted:
        video, study = found
        _refuse_deleted_study(study, include_deleted=False)
        if not video.is_active:
            raise NotFoundError(f"The video '{video.filename}' has been deleted.")
        still = session.get(Media, frame.frame_media_id)
        if not frame.is_active or still is None or not still.is_active:
            raise NotFoundError(f"The frame at {frame.timestamp_seconds:.3f} s has been deleted.")
    return frame


def load_prediction_for_actor(
    session: Session, actor: Actor, prediction_id: object
) -> PictureClassificationPrediction | PictureBBPrediction:
    """A classification or box prediction of one of the actor's active media, by its id."""
    return _load_media_child(
        session, actor, prediction_id, PictureClassificationPrediction, PictureBBPrediction,
        what="prediction",
    )  # fmt: skip


def load_annotation_for_actor(
    session: Session, actor: Actor, annotation_id: object
) -> PictureClassificationAnnotation | PictureBBAnnotation:
    """A usefulness label or a box of one of the actor's active media, by its id."""
    return _load_media_child(
        session, actor, annotation_id, PictureClassificationAnnotation, PictureBBAnnotation,
        what="annotation",
    )  # fmt: skip


def _load_media_child(
    session: Session, actor: Actor, row_id: object, *models: type[Any], what: str
) -> Any:
    # The row of the first of ``models`` that holds this id, if its media is the actor's.
    parsed = parse_id(row_id, what=what)
    row = next((r for m in models if (r := session.get(m, parsed)) is not None), None)
    if row is None:
        raise NotFoundError(f"The {what} {parsed} was not found among your studies.")
    _check_media_child(session, actor, row.media_id, what=what, id_=parsed)
    return row


def _owned_media(session: Session, actor: Actor, media_id: uuid.UUID) -> tuple[Media, Study] | None:
    media = session.get(Media, media_id)
    study = session.get(Study, media.study_id) if media is not None else None
    if media is None or study is None or study.doctor_id != actor.user_id:
        return None
    return media, study


def _check_media_child(
    session: Session, actor: Actor, media_id: uuid.UUID, *, what: str, id_: uuid.UUID
) -> None:
    # Same message whether the media is someone else's or deleted: see the module policy.
    try:
        load_media_for_actor(session, actor, media_id)
    except NotFoundError:
        raise NotFoundError(f"The {what} {id_} was not found among your studies.") from None
