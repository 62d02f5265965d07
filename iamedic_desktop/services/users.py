"""Users and roles: who the actor is, and the administration's listing and user management.

Users are named by e-mail (any case) or id. Granting a role already held and revoking one not
held change nothing and are not errors: every change says whether it changed anything, and what.
An admin cannot remove the last active admin (themselves), nor deactivate their own account, so
the store always keeps someone able to manage it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from iamedic_desktop.models import DoctorProfile, DoctorStatus, Role, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.users import AdminUserDTO, UserChangeDTO
from iamedic_desktop.services.permissions import require_active_user, require_admin_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import (
    check_doctor_status,
    check_paging,
    check_role,
    like_pattern,
    parse_id,
)

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------

# The registration states in the order an admin reads them; no registration last.
_STATUS_RANK = {DoctorStatus.PENDING.value: 0, DoctorStatus.APPROVED.value: 1}
_STATUS_RANK[DoctorStatus.DENIED.value] = 2
NO_PROFILE = "none"
SORTS = ("email", "name", "status", "created")


def _roles_by_user(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    result: dict[uuid.UUID, list[str]] = {}
    rows = session.execute(
        select(UserRole.user_id, UserRole.role)
        .where(UserRole.user_id.in_(user_ids))
        .order_by(UserRole.role)
    )
    for user_id, role in rows:
        result.setdefault(user_id, []).append(role)
    return result


def _profiles_by_user(
    session: Session, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, DoctorProfile]:
    profiles = session.scalars(select(DoctorProfile).where(DoctorProfile.user_id.in_(user_ids)))
    return {profile.user_id: profile for profile in profiles}


def _role_row(session: Session, user_id: uuid.UUID, role: str) -> UserRole | None:
    return session.scalars(
        select(UserRole).where(UserRole.user_id == user_id, UserRole.role == role)
    ).one_or_none()


def _active_admin_count(session: Session) -> int:
    query = (
        select(func.count(func.distinct(UserRole.user_id)))
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role == Role.ADMIN.value, _is_active(True))
    )
    return session.scalar(query) or 0


def _is_active(active: bool) -> ColumnElement[bool]:
    # NULL means active, as on the web: only an explicit false is inactive.
    if active:
        return or_(User.is_active.is_(None), User.is_active.is_(True))
    return User.is_active.is_(False)


@dataclass(frozen=True)
class UserFilter:
    """What the administration's listing shows, checked: see ``list_users``."""

    search: str | None = None
    role: Role | None = None
    status: str | None = None  # a DoctorStatus value, or NO_PROFILE
    active: bool | None = None


def _user_listing(wanted: UserFilter) -> Select[User]:
    query = select(User).outerjoin(DoctorProfile, DoctorProfile.user_id == User.id)
    if wanted.search:
        pattern = like_pattern(wanted.search)
        columns = (User.email, User.name, DoctorProfile.legal_name, DoctorProfile.matriculation_id)
        query = query.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    if wanted.role is not None:
        holders = select(UserRole.user_id).where(UserRole.role == wanted.role.value)
        query = query.where(User.id.in_(holders))
    if wanted.status == NO_PROFILE:
        query = query.where(DoctorProfile.id.is_(None))
    elif wanted.status is not None:
        query = query.where(DoctorProfile.status == wanted.status)
    if wanted.active is not None:
        query = query.where(_is_active(wanted.active))
    return query


def _ordering(sort: str, descending: bool, pending_first: bool) -> list[ColumnElement[Any]]:
    status_rank = case(_STATUS_RANK, value=DoctorProfile.status, else_=len(_STATUS_RANK))
    keys: dict[str, ColumnElement[Any]] = {
        "email": func.lower(User.email),
        "name": func.lower(User.name),
        "status": status_rank,
        "created": User.created_at.expression,
    }
    key = keys[sort]
    order = [key.desc() if descending else key.asc()]
    if pending_first:
        pending = case((DoctorProfile.status == DoctorStatus.PENDING.value, 0), else_=1)
        order.insert(0, pending.asc())
    # Ties broken by e-mail then id, so paging never repeats nor skips a row.
    return [*order, func.lower(User.email).asc(), User.id.asc()]


# --- helpers ----------------------------------------------------------------------------------


def user_dtos(session: Session, users: Iterable[User]) -> list[AdminUserDTO]:
    """Rows of users with their roles and registration (two queries for any number)."""
    users = list(users)
    ids = [u.id for u in users]
    roles = _roles_by_user(session, ids) if ids else {}
    profiles = _profiles_by_user(session, ids) if ids else {}
    return [_row(u, roles.get(u.id, []), profiles.get(u.id)) for u in users]


def _row(user: User, roles: list[str], profile: DoctorProfile | None) -> AdminUserDTO:
    return AdminUserDTO(
        id=user.id,
        email=user.email,
        name=user.name,
        is_active=user.is_active is not False,
        roles=roles,
        doctor_status=profile.status if profile is not None else None,
        created_at=user.created_at,
        profile_id=profile.id if profile is not None else None,
        matriculation_id=profile.matriculation_id if profile is not None else None,
        legal_name=profile.legal_name if profile is not None else None,
        specialization=profile.specialization if profile is not None else None,
        notes=profile.notes if profile is not None else None,
    )


def user_dto(session: Session, user: User) -> AdminUserDTO:
    """The row of one user."""
    return user_dtos(session, [user])[0]


def find_user(session: Session, ref: object) -> User:
    """The user named by ``ref``: an e-mail (any case) or an id."""
    if isinstance(ref, str) and "@" in ref:
        email = ref.strip()
        user = session.scalars(
            select(User).where(func.lower(User.email) == email.lower())
        ).one_or_none()
        if user is None:
            raise NotFoundError(f"No user has the e-mail {email}.")
        return user
    parsed = parse_id(ref, what="user")
    found = session.get(User, parsed)
    if found is None:
        raise NotFoundError(f"No user has the id {parsed}.")
    return found


def _check_filter(
    search: str | None, role: str | None, status: str | None, active: bool | None
) -> UserFilter:
    if active is not None and not isinstance(active, bool):
        raise InvalidInputError(f"Active is true or false, not {active!r}.")
    if status is not None and status != NO_PROFILE:
        status = check_doctor_status(status).value
    return UserFilter(
        search=search.strip() or None if search else None,
        role=check_role(role) if role is not None else None,
        status=status,
        active=active,
    )


# --- services ---------------------------------------------------------------------------------


def get_current_user_info(uow_factory: UnitOfWorkFactory, actor: Actor) -> AdminUserDTO:
    """The acting user as the store knows them now (roles and registration included)."""
    with uow_factory() as uow:
        session = uow.session
        return user_dto(session, require_active_user(session, actor))


def list_users(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    search: str | None = None,
    role: str | None = None,
    status: str | None = None,
    active: bool | None = None,
    sort: str = "email",
    descending: bool = False,
    pending_first: bool = True,
    offset: int = 0,
    limit: int = 100,
) -> Page[AdminUserDTO]:
    """The administration's listing (admin only).

    ``search`` looks in e-mail, name, legal name and matriculation id; ``role`` is a role the
    user holds; ``status`` a registration state or ``"none"`` (no registration); ``active``
    true or false. Pending registrations come first unless ``pending_first`` is false, then
    the ``sort`` (email, name, status, created), then e-mail.
    """
    wanted = _check_filter(search, role, status, active)
    if sort not in SORTS:
        names = ", ".join(SORTS)
        raise InvalidInputError(f"'{sort}' is not a way to sort users; use one of {names}.")
    check_paging(offset, limit)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        query = _user_listing(wanted)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ordered = query.order_by(*_ordering(sort, descending, pending_first))
        items = user_dtos(session, session.scalars(ordered.offset(offset).limit(limit)))
    return Page[AdminUserDTO](items=items, total=total, offset=offset, limit=limit)


def get_user(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_ref: str | uuid.UUID
) -> AdminUserDTO:
    """One user by e-mail or id (admin only)."""
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        return user_dto(session, find_user(session, user_ref))


def grant_role(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_ref: str | uuid.UUID, role: str
) -> UserChangeDTO:
    """Give a user (by e-mail or id) a role (admin only); a role already held is left as it is.

    The doctor role alone does not open doctor work: the user also needs an approved profile.
    """
    wanted = check_role(role)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        user = find_user(session, user_ref)
        if _role_row(session, user.id, wanted.value) is not None:
            message = f"{user.email} already holds the {wanted.value} role."
            return UserChangeDTO(user=user_dto(session, user), changed=False, message=message)
        session.add(UserRole(id=uuid.uuid4(), user_id=user.id, role=wanted.value))
        commit_or_conflict(uow, f"{user.email} was given the {wanted.value} role meanwhile.")
        message = f"{user.email} was given the {wanted.value} role."
        change = UserChangeDTO(user=user_dto(session, user), changed=True, message=message)
        log.info("✅ Role %s granted to %s by %s", wanted.value, user.email, actor.email)
    return change


def revoke_role(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_ref: str | uuid.UUID, role: str
) -> UserChangeDTO:
    """Take a role from a user (admin only); a role not held is not an error."""
    unwanted = check_role(role)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        user = find_user(session, user_ref)
        row = _role_row(session, user.id, unwanted.value)
        if row is None:
            message = f"{user.email} does not hold the {unwanted.value} role."
            return UserChangeDTO(user=user_dto(session, user), changed=False, message=message)
        if unwanted is Role.ADMIN and user.is_active is not False:
            _refuse_losing_the_last_admin(session)
        session.delete(row)
        commit_or_conflict(uow, f"The {unwanted.value} role of {user.email} changed meanwhile.")
        message = f"The {unwanted.value} role was taken from {user.email}."
        change = UserChangeDTO(user=user_dto(session, user), changed=True, message=message)
        log.info("✅ Role %s revoked from %s by %s", unwanted.value, user.email, actor.email)
    return change


def _refuse_losing_the_last_admin(session: Session) -> None:
    # Only an active admin may act here, so this fires when they would remove themselves.
    if _active_admin_count(session) <= 1:
        raise PermissionDeniedError(
            "You are the only active administrator: without your admin role nobody could "
            "manage users or approve doctors. Grant the admin role to someone else first."
        )


def set_user_active(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_ref: str | uuid.UUID, active: bool
) -> UserChangeDTO:
    """Activate or deactivate an account (admin only); a deactivated user is refused everything."""
    if not isinstance(active, bool):
        raise InvalidInputError(f"Active is true or false, not {active!r}.")
    with uow_factory() as uow:
        session = uow.session
        admin = require_admin_role(session, actor)
        user = find_user(session, user_ref)
        if not active and user.id == admin.id:
            raise PermissionDeniedError(
                "You cannot deactivate your own account; another administrator can."
            )
        state = "activated" if active else "deactivated"
        if (user.is_active is not False) is active:
            already = "active" if active else "deactivated"
            message = f"{user.email} was already {already}."
            return UserChangeDTO(user=user_dto(session, user), changed=False, message=message)
        user.is_active = active
        commit_or_conflict(uow, f"The account {user.email} changed meanwhile.")
        message = f"The account {user.email} was {state}."
        change = UserChangeDTO(user=user_dto(session, user), changed=True, message=message)
        log.info("✅ Account %s %s by %s", user.email, state, actor.email)
    return change
