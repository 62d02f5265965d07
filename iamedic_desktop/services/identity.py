"""Who a signed-in Google identity is on this store, and the local-mode studies' new owner.

Matching is the web's: by e-mail; a new user is created with e-mail, name and the Google
``sub`` as google_id. When the central database answers, the user's row, roles and doctor
profile are copied from it as the web shows them (same ids), so the store and the web agree on
who may do what; a revoked role or a deactivated account takes effect here at the next copy.

Threading: functions taking a SQLAlchemy ``Session`` run inside the caller's unit of work.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import DoctorProfile, OutboxEntry, Study, User, UserRole
from iamedic_desktop.models.local import LocalSession
from iamedic_desktop.services.local_mode import local_user_id

if TYPE_CHECKING:
    from iamedic_desktop.auth.oauth import SignedIn

log = logging.getLogger(__name__)

CENTRAL_CONNECT_TIMEOUT_S = 5
_IDENTITY_TABLES = ("users", "user_roles", "doctor_profiles")


@dataclass(frozen=True)
class CentralIdentity:
    """A user as the central database holds them: row, roles and profile (plain values)."""

    id: uuid.UUID
    email: str
    user: dict[str, object]
    roles: list[dict[str, object]]
    profile: dict[str, object] | None


_USER_FIELDS = ("id", "email", "name", "google_id", "is_active", "created_at", "updated_at")
_ROLE_FIELDS = ("id", "user_id", "role", "created_at", "updated_at")
_PROFILE_FIELDS = (
    "id", "user_id", "matriculation_id", "legal_name", "specialization", "status", "notes",
    "created_at", "updated_at",
)  # fmt: skip


def _values(row: object, fields: tuple[str, ...]) -> dict[str, object]:
    # Only these columns: the web's own Google tokens (users.access_token...) never leave it.
    return {name: getattr(row, name) for name in fields}


def fetch_central_identity(settings: Settings, email: str) -> CentralIdentity | None:
    """The user with ``email`` in the central database; None when absent or unreachable.

    Unreachable (no network, a wrong password) is logged as a warning, not raised: sign-in and
    offline work go on with what the store knows.
    """
    if not settings.central_url:
        return None
    from iamedic_desktop.auth.secrets import central_url
    from iamedic_desktop.core.database import create_central_engine

    try:
        engine = create_central_engine(
            central_url(settings), connect_args={"connect_timeout": CENTRAL_CONNECT_TIMEOUT_S}
        )
    except IamedicError as exc:
        log.warning("⚠️ The central database is not usable: %s", exc.message)
        return None
    try:
        with Session(engine) as session:
            user = session.scalars(select(User).where(User.email == email)).one_or_none()
            if user is None:
                return None
            roles = session.scalars(select(UserRole).where(UserRole.user_id == user.id)).all()
            profile = session.scalars(
                select(DoctorProfile).where(DoctorProfile.user_id == user.id)
            ).one_or_none()
            return CentralIdentity(
                id=user.id,
                email=user.email,
                user=_values(user, _USER_FIELDS),
                roles=[_values(r, _ROLE_FIELDS) for r in roles],
                profile=_values(profile, _PROFILE_FIELDS) if profile is not None else None,
            )
    except SQLAlchemyError as exc:
        # The driver's message may name the host; never the password (it is not in it).
        cause = getattr(exc, "orig", None) or exc
        log.warning("⚠️ The central database did not answer (%s)", type(cause).__name__)
        return None
    finally:
        engine.dispose()


def match_user(session: Session, signed_in: SignedIn, central: CentralIdentity | None) -> User:
    """The store's user for this Google identity: copied from central, found, or created."""
    if central is not None:
        return apply_central(session, central)
    user = session.scalars(select(User).where(User.email == signed_in.email)).one_or_none()
    if user is None:
        user = User(
            email=signed_in.email, name=signed_in.name, google_id=signed_in.subject, is_active=True
        )
        session.add(user)
        session.flush()
        log.info("🔧 New user %s created on this store", signed_in.email)
    return user


def apply_central(session: Session, central: CentralIdentity) -> User:
    """Copy the central row, roles and profile of a user into the store (same ids)."""
    before = session.scalar(select(func.max(OutboxEntry.seq))) or 0
    central_id = central.id
    user = session.scalars(select(User).where(User.email == central.email)).one_or_none()
    if user is not None and user.id != central_id:
        _rekey_user(session, user, central_id)
        user = None
    user = user or session.get(User, central_id)
    if user is None:
        user = User(**central.user)
        session.add(user)
    else:
        for name, value in central.user.items():
            setattr(user, name, value)
    session.flush()
    _replace_children(session, central)
    session.flush()
    # Rows copied from central are central's own state: pushing them back would be an echo.
    session.execute(
        delete(OutboxEntry).where(
            OutboxEntry.seq > before, OutboxEntry.table_name.in_(_IDENTITY_TABLES)
        )
    )
    return user


def _replace_children(session: Session, central: CentralIdentity) -> None:
    user_id = central.id
    wanted = {r["id"] for r in central.roles}
    for role in session.scalars(select(UserRole).where(UserRole.user_id == user_id)):
        if role.id not in wanted:
            session.delete(role)
    session.flush()
    for values in central.roles:
        row = session.get(UserRole, values["id"])
        if row is None:
            session.add(UserRole(**values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
    profile = session.scalars(
        select(DoctorProfile).where(DoctorProfile.user_id == user_id)
    ).one_or_none()
    if profile is not None and (central.profile is None or profile.id != central.profile["id"]):
        session.delete(profile)
        session.flush()
        profile = None
    if central.profile is not None:
        if profile is None:
            session.add(DoctorProfile(**central.profile))
        else:
            for name, value in central.profile.items():
                setattr(profile, name, value)


def _rekey_user(session: Session, user: User, central_id: uuid.UUID) -> None:
    # Made here before the central row was seen: the central id wins, and the studies follow it.
    log.info("🔧 The user %s takes the central database's id", user.email)
    old_id = user.id
    user.email = f"{old_id}@replaced.invalid"
    user.google_id = f"replaced:{old_id}"
    session.flush()
    session.add(User(id=central_id, email="pending", name=user.name, google_id=str(central_id)))
    session.flush()
    for study in session.scalars(select(Study).where(Study.doctor_id == old_id)):
        study.doctor_id = central_id
    row = session.get(LocalSession, old_id)
    if row is not None:
        row.user_id = central_id
    children = [
        *session.scalars(select(UserRole.id).where(UserRole.user_id == old_id)),
        *session.scalars(select(DoctorProfile.id).where(DoctorProfile.user_id == old_id)),
    ]
    session.execute(delete(UserRole).where(UserRole.user_id == old_id))
    session.execute(delete(DoctorProfile).where(DoctorProfile.user_id == old_id))
    session.flush()
    session.delete(user)
    session.flush()
    # Never pushed (central has this person under its own id): nothing of them is to be synced.
    session.execute(delete(OutboxEntry).where(OutboxEntry.row_id.in_([old_id, *children])))


# --- the local-mode clinician and its studies --------------------------------------------------


def retire_local_clinician(session: Session) -> None:
    """A real user signed in: the local-mode clinician's rights end on this store."""
    local_id = local_user_id(session)
    user = session.get(User, local_id) if local_id is not None else None
    if user is not None and user.is_active is not False:
        user.is_active = False
        log.info("🔧 Local mode ends on this store: the local clinician is deactivated")


def local_study_count(session: Session) -> int:
    """How many studies (deleted ones included) the local-mode clinician still owns."""
    local_id = local_user_id(session)
    if local_id is None:
        return 0
    query = select(func.count()).select_from(Study).where(Study.doctor_id == local_id)
    return session.scalar(query) or 0


def take_local_studies(session: Session, user_id: uuid.UUID) -> int:
    """Make every study of the local-mode clinician ``user_id``'s (their media follow them).

    An alias the user already has is kept with " (local mode)" added, so nothing is lost.
    """
    local_id = local_user_id(session)
    if local_id is None or local_id == user_id:
        return 0
    taken = set(session.scalars(select(Study.alias).where(Study.doctor_id == user_id)))
    studies = list(session.scalars(select(Study).where(Study.doctor_id == local_id)))
    for study in studies:
        alias = study.alias
        suffix = 1
        while alias in taken:
            label = " (local mode)" if suffix == 1 else f" (local mode {suffix})"
            alias = study.alias[: 255 - len(label)] + label
            suffix += 1
        taken.add(alias)
        study.alias = alias
        study.doctor_id = user_id
    session.flush()
    log.info("✅ %d studies made in local mode now belong to the signed-in user", len(studies))
    return len(studies)
