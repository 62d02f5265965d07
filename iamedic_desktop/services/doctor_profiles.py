"""Doctor registration and its review: register, edit while pending, approve, deny.

A signed-in user registers once (one profile per user, matriculation ids unique); the profile
stays ``pending`` through edits until an admin approves it (granting the ``doctor`` role) or
denies it. A denial is final. Denying revokes no role silently: the decision says what happened.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError, NotFoundError
from iamedic_desktop.models import DoctorProfile, DoctorStatus, Role, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.doctor_profiles import DoctorProfileDTO, ProfileDecisionDTO
from iamedic_desktop.services.permissions import (
    profile_of,
    require_active_user,
    require_admin_role,
    roles_of,
)
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.users import find_user, user_dto
from iamedic_desktop.services.validation import (
    PROFILE_FIELD_MAX_LENGTH,
    check_doctor_status,
    check_paging,
    clean_notes,
    clean_text,
    like_pattern,
    parse_id,
)

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------


def _matriculation_holder(session: Session, matriculation_id: str) -> DoctorProfile | None:
    return session.scalars(
        select(DoctorProfile).where(DoctorProfile.matriculation_id == matriculation_id)
    ).one_or_none()


def _listing(status: DoctorStatus | None, search: str | None) -> Select[DoctorProfile, User]:
    query = select(DoctorProfile, User).join(User, User.id == DoctorProfile.user_id)
    if status is not None:
        query = query.where(DoctorProfile.status == status.value)
    if search:
        pattern = like_pattern(search)
        columns = (User.email, User.name, DoctorProfile.legal_name, DoctorProfile.matriculation_id)
        query = query.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    return query


# --- helpers ----------------------------------------------------------------------------------


def _dto(profile: DoctorProfile, user: User) -> DoctorProfileDTO:
    return DoctorProfileDTO(
        id=profile.id,
        user_id=profile.user_id,
        email=user.email,
        name=user.name,
        matriculation_id=profile.matriculation_id,
        legal_name=profile.legal_name,
        specialization=profile.specialization,
        status=profile.status,
        notes=profile.notes,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def _clean_fields(matriculation_id: str, legal_name: str, specialization: str) -> tuple[str, ...]:
    limit = PROFILE_FIELD_MAX_LENGTH
    return (
        clean_text(matriculation_id, what="matriculation id", max_length=limit),
        clean_text(legal_name, what="legal name", max_length=limit),
        clean_text(specialization, what="specialization", max_length=limit),
    )


def _require_matriculation_free(
    session: Session, matriculation_id: str, own: DoctorProfile | None
) -> None:
    holder = _matriculation_holder(session, matriculation_id)
    if holder is not None and holder is not own:
        raise ConflictError(_taken(matriculation_id))


def _taken(matriculation_id: str) -> str:
    return (
        f"The matriculation id '{matriculation_id}' is already registered to another doctor; "
        "check the number, or ask an administrator if it is yours."
    )


def _load_profile(session: Session, ref: object) -> tuple[DoctorProfile, User]:
    # A registration is named by its own id, or by its user (e-mail or id).
    if isinstance(ref, str) and "@" in ref:
        user = find_user(session, ref)
    else:
        parsed = parse_id(ref, what="doctor registration or user")
        profile = session.get(DoctorProfile, parsed)
        if profile is not None:
            return profile, session.get_one(User, profile.user_id)
        found = session.get(User, parsed)
        if found is None:
            raise NotFoundError(f"No doctor registration or user has the id {parsed}.")
        user = found
    profile = profile_of(session, user.id)
    if profile is None:
        raise NotFoundError(f"{user.email} has not registered as a doctor.")
    return profile, user


# --- services: the applicant ------------------------------------------------------------------


def register_doctor_profile(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    matriculation_id: str,
    legal_name: str,
    specialization: str,
) -> DoctorProfileDTO:
    """Register the actor as a doctor; the profile waits (``pending``) for an admin."""
    fields = _clean_fields(matriculation_id, legal_name, specialization)
    with uow_factory() as uow:
        session = uow.session
        user = require_active_user(session, actor)
        existing = profile_of(session, user.id)
        if existing is not None and existing.status == DoctorStatus.DENIED.value:
            raise ConflictError(
                "Your doctor registration was denied, and a denial is final; ask an "
                "administrator if you think it is a mistake."
            )
        if existing is not None:
            raise ConflictError(
                f"You have already registered as a doctor (your registration is "
                f"{existing.status}); edit it while it is pending instead."
            )
        _require_matriculation_free(session, fields[0], None)
        profile = DoctorProfile(
            id=uuid.uuid4(),
            user_id=user.id,
            matriculation_id=fields[0],
            legal_name=fields[1],
            specialization=fields[2],
            status=DoctorStatus.PENDING.value,
        )
        session.add(profile)
        commit_or_conflict(uow, _taken(fields[0]))
        dto = _dto(profile, user)
        log.info("✅ Doctor registration of %s submitted (pending)", actor.email)
    return dto


def update_doctor_profile(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    matriculation_id: str,
    legal_name: str,
    specialization: str,
) -> DoctorProfileDTO:
    """Edit the actor's pending registration; it stays pending and the admin's notes clear."""
    fields = _clean_fields(matriculation_id, legal_name, specialization)
    with uow_factory() as uow:
        session = uow.session
        user = require_active_user(session, actor)
        profile = profile_of(session, user.id)
        if profile is None:
            raise NotFoundError("You have not registered as a doctor yet.")
        if profile.status != DoctorStatus.PENDING.value:
            raise ConflictError(
                f"Your registration was already {profile.status}; only a pending registration "
                "can be edited."
            )
        _require_matriculation_free(session, fields[0], profile)
        profile.matriculation_id, profile.legal_name, profile.specialization = fields
        profile.notes = None
        commit_or_conflict(uow, _taken(fields[0]))
        dto = _dto(profile, user)
        log.info("✅ Doctor registration of %s edited (still pending)", actor.email)
    return dto


def get_own_doctor_profile(uow_factory: UnitOfWorkFactory, actor: Actor) -> DoctorProfileDTO | None:
    """The actor's own registration, or None before they register."""
    with uow_factory() as uow:
        session = uow.session
        user = require_active_user(session, actor)
        profile = profile_of(session, user.id)
        return _dto(profile, user) if profile is not None else None


# --- services: the admin ----------------------------------------------------------------------


def list_doctor_profiles(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    status: str | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Page[DoctorProfileDTO]:
    """Registrations, oldest first, optionally of one status (admin only).

    ``search`` looks in the e-mail, name, legal name and matriculation id.
    """
    wanted = check_doctor_status(status) if status is not None else None
    term = search.strip() or None if search else None
    check_paging(offset, limit)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        query = _listing(wanted, term)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(
            query.order_by(DoctorProfile.created_at, DoctorProfile.id).offset(offset).limit(limit)
        )
        items = [_dto(profile, user) for profile, user in rows]
    return Page[DoctorProfileDTO](items=items, total=total, offset=offset, limit=limit)


def approve_doctor_profile(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    profile_ref: str | uuid.UUID,
    *,
    notes: str | None = None,
) -> ProfileDecisionDTO:
    """Approve a registration and grant the doctor role (admin only); a denial is final.

    ``profile_ref`` is the registration's id, or its user's e-mail or id.
    """
    note = clean_notes(notes)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        profile, user = _load_profile(session, profile_ref)
        if profile.status == DoctorStatus.DENIED.value:
            raise ConflictError(
                f"The registration of {user.email} was denied, and a denial is final; it "
                "cannot be approved."
            )
        was_approved = profile.status == DoctorStatus.APPROVED.value
        granted = Role.DOCTOR.value not in roles_of(session, user.id)
        changed = not was_approved or granted or (note is not None and note != profile.notes)
        if changed:
            profile.status = DoctorStatus.APPROVED.value
            if note is not None:
                profile.notes = note
            if granted:
                session.add(UserRole(id=uuid.uuid4(), user_id=user.id, role=Role.DOCTOR.value))
            commit_or_conflict(uow, f"The roles of {user.email} changed meanwhile; try again.")
        already = " was already approved" if was_approved else " is approved"
        role = "; the doctor role was granted." if granted else "; they hold the doctor role."
        decision = ProfileDecisionDTO(
            profile=_dto(profile, user),
            user=user_dto(session, user),
            role_granted=granted,
            changed=changed,
            message=f"The registration of {user.email}{already}{role}",
        )
        if changed:
            log.info("✅ %s (by %s)", decision.message, actor.email)
    return decision


def deny_doctor_profile(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    profile_ref: str | uuid.UUID,
    *,
    notes: str | None = None,
) -> ProfileDecisionDTO:
    """Deny a registration, finally (admin only); roles are left alone and the message says so.

    ``profile_ref`` is the registration's id, or its user's e-mail or id.
    """
    note = clean_notes(notes)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        profile, user = _load_profile(session, profile_ref)
        was = profile.status
        changed = was != DoctorStatus.DENIED.value or (note is not None and note != profile.notes)
        if changed:
            profile.status = DoctorStatus.DENIED.value
            if note is not None:
                profile.notes = note
            commit_or_conflict(uow, f"The registration of {user.email} changed meanwhile.")
        message = f"The registration of {user.email} was denied."
        if was == DoctorStatus.DENIED.value:
            message = f"The registration of {user.email} was already denied."
        if Role.DOCTOR.value in roles_of(session, user.id):
            message += (
                " The doctor role was left in place, but without an approved registration it "
                "no longer opens doctor work; revoke it under Users if wanted."
            )
        decision = ProfileDecisionDTO(
            profile=_dto(profile, user),
            user=user_dto(session, user),
            role_granted=False,
            changed=changed,
            message=message,
        )
        if changed:
            emoji = "⚠️" if was == DoctorStatus.APPROVED.value else "✅"
            log.info("%s %s (by %s)", emoji, message, actor.email)
    return decision
