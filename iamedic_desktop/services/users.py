"""Users and roles: who the actor is, and the admin's user management.

Granting a role already held and revoking one not held change nothing and are not errors. An
admin cannot remove the last active admin (themselves), nor deactivate their own account, so
the store always keeps someone able to manage it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from iamedic_desktop.models import DoctorProfile, Role, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.users import UserDTO
from iamedic_desktop.services.permissions import require_active_user, require_admin_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_paging, check_role, like_pattern, parse_id

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------


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


def _status_by_user(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(
        select(DoctorProfile.user_id, DoctorProfile.status).where(
            DoctorProfile.user_id.in_(user_ids)
        )
    )
    return {user_id: status for user_id, status in rows}


def _role_row(session: Session, user_id: uuid.UUID, role: str) -> UserRole | None:
    return session.scalars(
        select(UserRole).where(UserRole.user_id == user_id, UserRole.role == role)
    ).one_or_none()


def _active_admin_count(session: Session) -> int:
    query = (
        select(func.count(func.distinct(UserRole.user_id)))
        .join(User, User.id == UserRole.user_id)
        .where(
            UserRole.role == Role.ADMIN.value,
            or_(User.is_active.is_(None), User.is_active.is_(True)),
        )
    )
    return session.scalar(query) or 0


def _user_listing(search: str | None) -> Select[User]:
    query = select(User)
    if search:
        pattern = like_pattern(search)
        query = query.where(
            or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\"))
        )
    return query


# --- helpers ----------------------------------------------------------------------------------


def user_dtos(session: Session, users: Iterable[User]) -> list[UserDTO]:
    """DTOs of users with their roles and profile status (two queries for any number)."""
    users = list(users)
    ids = [u.id for u in users]
    roles = _roles_by_user(session, ids) if ids else {}
    statuses = _status_by_user(session, ids) if ids else {}
    return [
        UserDTO(
            id=u.id,
            email=u.email,
            name=u.name,
            is_active=u.is_active is not False,
            roles=roles.get(u.id, []),
            doctor_status=statuses.get(u.id),
        )
        for u in users
    ]


def user_dto(session: Session, user: User) -> UserDTO:
    """The DTO of one user."""
    return user_dtos(session, [user])[0]


def _load_user(session: Session, user_id: object) -> User:
    parsed = parse_id(user_id, what="user")
    user = session.get(User, parsed)
    if user is None:
        raise NotFoundError(f"No user has the id {parsed}.")
    return user


# --- services ---------------------------------------------------------------------------------


def get_current_user_info(uow_factory: UnitOfWorkFactory, actor: Actor) -> UserDTO:
    """The acting user as the store knows them now (roles and doctor status included)."""
    with uow_factory() as uow:
        session = uow.session
        return user_dto(session, require_active_user(session, actor))


def list_users(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    *,
    search: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Page[UserDTO]:
    """Every user, by e-mail, optionally filtered on e-mail or name (admin only)."""
    check_paging(offset, limit)
    term = search.strip() if search else None
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        query = _user_listing(term)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        users = session.scalars(query.order_by(User.email, User.id).offset(offset).limit(limit))
        items = user_dtos(session, users)
    return Page[UserDTO](items=items, total=total, offset=offset, limit=limit)


def get_user(uow_factory: UnitOfWorkFactory, actor: Actor, user_id: str | uuid.UUID) -> UserDTO:
    """One user by id (admin only)."""
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        return user_dto(session, _load_user(session, user_id))


def grant_role(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_id: str | uuid.UUID, role: str
) -> UserDTO:
    """Give a user a role (admin only); a role already held is left as it is.

    The doctor role alone does not open doctor work: the user also needs an approved profile.
    """
    wanted = check_role(role)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        user = _load_user(session, user_id)
        if _role_row(session, user.id, wanted.value) is not None:
            return user_dto(session, user)
        session.add(UserRole(id=uuid.uuid4(), user_id=user.id, role=wanted.value))
        commit_or_conflict(uow, f"{user.email} was given the {wanted.value} role meanwhile.")
        dto = user_dto(session, user)
        log.info("✅ Role %s granted to %s by %s", wanted.value, user.email, actor.email)
    return dto


def revoke_role(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_id: str | uuid.UUID, role: str
) -> UserDTO:
    """Take a role from a user (admin only); a role not held is not an error."""
    unwanted = check_role(role)
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        user = _load_user(session, user_id)
        row = _role_row(session, user.id, unwanted.value)
        if row is None:
            return user_dto(session, user)
        if (
            unwanted is Role.ADMIN
            and user.id == actor.user_id
            and _active_admin_count(session) <= 1
        ):
            raise PermissionDeniedError(
                "You are the only active administrator: without your admin role nobody could "
                "manage users or approve doctors. Grant the admin role to someone else first."
            )
        session.delete(row)
        commit_or_conflict(uow, f"The {unwanted.value} role of {user.email} changed meanwhile.")
        dto = user_dto(session, user)
        log.info("✅ Role %s revoked from %s by %s", unwanted.value, user.email, actor.email)
    return dto


def set_user_active(
    uow_factory: UnitOfWorkFactory, actor: Actor, user_id: str | uuid.UUID, active: bool
) -> UserDTO:
    """Activate or deactivate an account (admin only); a deactivated user is refused everything."""
    if not isinstance(active, bool):
        raise InvalidInputError(f"Active is true or false, not {active!r}.")
    with uow_factory() as uow:
        session = uow.session
        require_admin_role(session, actor)
        user = _load_user(session, user_id)
        if not active and user.id == actor.user_id:
            raise PermissionDeniedError(
                "You cannot deactivate your own account; another administrator can."
            )
        if user.is_active is active:
            return user_dto(session, user)
        user.is_active = active
        commit_or_conflict(uow, f"The account {user.email} changed meanwhile.")
        dto = user_dto(session, user)
        state = "activated" if active else "deactivated"
        log.info("✅ Account %s %s by %s", user.email, state, actor.email)
    return dto
