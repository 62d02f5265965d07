"""Signing in and out of a store, and which user acts each time it is opened.

- Sign-in (after the Google flow of ``auth/oauth.py``): the user is matched as the web does
  (``services/identity.py``), becomes the store's current session, and the local-mode clinician
  loses its rights; the refresh token goes to the OS keyring.
- Opening the store: the current session's user acts. When its ID token has expired (or its
  offline time is up) the session is refreshed online first: a new ID token from the provider,
  and the user's roles, profile and active state from the central database when it answers. A
  session not confirmed online for ``offline_days`` is refused: "Sign-in required".
- Sign-out ends the session and removes the secrets from the keyring; the store stays.

Threading: network calls (provider, central database) run outside any local transaction; each
store change is one unit of work. Callers run this off the UI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from iamedic_desktop.auth import secrets
from iamedic_desktop.auth import session as stored
from iamedic_desktop.core.errors import AuthenticationError, StorageError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import DoctorProfile, User, UserRole
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.session import Online, SessionInfo
from iamedic_desktop.services import identity
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

if TYPE_CHECKING:
    from iamedic_desktop.auth.oauth import SignedIn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionState:
    """Who acts on an opened store, and the state of their sign-in (None fields: local mode)."""

    actor: Actor
    signed_in: bool
    online: Online | None = None
    valid_until: dt.datetime | None = None


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, email=user.email, name=user.name)


def _keep_refresh_token(email: str, token: str | None) -> None:
    if not token:
        return
    try:
        secrets.store_refresh_token(email, token)
    except StorageError as exc:
        # Not fatal: the session still works offline; once its time is up, sign in again.
        log.warning("⚠️ The sign-in cannot be renewed online later: %s", exc.message)


def complete_sign_in(
    uow_factory: UnitOfWorkFactory,
    settings: Settings,
    signed_in: SignedIn,
    *,
    now: dt.datetime | None = None,
) -> SessionState:
    """Make the verified Google identity the store's acting user (local mode ends here)."""
    now = now or utcnow()
    central = identity.fetch_central_identity(settings, signed_in.email)
    with uow_factory() as uow:
        uow.begin_write()
        session = uow.session
        before = stored.current_session(session)
        previous = session.get(User, before.user_id) if before is not None else None
        replaced = previous.email if previous is not None else None
        user = identity.match_user(session, signed_in, central)
        row = stored.record_sign_in(session, user.id, signed_in, now)
        identity.retire_local_clinician(session)
        actor = _actor(user)
        until = stored.valid_until(row, settings.offline_days)
        uow.commit()
    if replaced is not None and replaced != signed_in.email:
        # Another person signed in over a session never signed out: theirs ends here.
        secrets.forget_refresh_token(replaced)
    _keep_refresh_token(signed_in.email, signed_in.refresh_token)
    log.info("✅ Signed in as %s", signed_in.email)
    return SessionState(actor=actor, signed_in=True, online="online", valid_until=until)


def check_session(
    uow_factory: UnitOfWorkFactory,
    settings: Settings,
    local_actor: Actor,
    *,
    force_refresh: bool = False,
    now: dt.datetime | None = None,
) -> SessionState:
    """Who acts now: the signed-in user (refreshed online when due), else the local clinician.

    AuthenticationError "Sign-in required" when a user signed in here before and no session is
    valid now (signed out, or offline past ``offline_days``).
    """
    now = now or utcnow()
    with uow_factory() as uow:
        row = stored.current_session(uow.session)
        if row is None:
            if stored.ever_signed_in(uow.session):
                raise AuthenticationError(f"{stored.SIGN_IN_REQUIRED}.")
            return SessionState(actor=local_actor, signed_in=False)
        user_id = row.user_id
        due = force_refresh or stored.refresh_due(row, settings.offline_days, now)
    online: Online = _refresh(uow_factory, settings, user_id, now) if due else "not checked"
    with uow_factory() as uow:
        row = stored.current_session(uow.session)
        user = uow.session.get(User, user_id)
        if row is None or user is None:
            raise AuthenticationError(f"{stored.SIGN_IN_REQUIRED}.")
        stored.require_valid(row, settings.offline_days, now)
        return SessionState(
            actor=_actor(user),
            signed_in=True,
            online=online,
            valid_until=stored.valid_until(row, settings.offline_days),
        )


def _refresh(
    uow_factory: UnitOfWorkFactory, settings: Settings, user_id: uuid.UUID, now: dt.datetime
) -> Online:
    with uow_factory() as uow:
        user = uow.session.get(User, user_id)
        email = user.email if user is not None else None
    if email is None:
        raise AuthenticationError(f"{stored.SIGN_IN_REQUIRED}.")
    renewed = _renew_token(settings, email)
    # The central database is asked even when the provider was not: a revoked role counts.
    central = identity.fetch_central_identity(settings, email)
    with uow_factory() as uow:
        uow.begin_write()
        row = stored.current_session(uow.session)
        if row is None or row.user_id != user_id:
            return "offline"  # signed out meanwhile by another program: nothing to refresh
        if renewed is not None:
            stored.record_refresh(row, renewed, now)
        if central is not None:
            identity.apply_central(uow.session, central)
        uow.commit()
    if renewed is not None:
        _keep_refresh_token(email, renewed.refresh_token)
        log.info("🔄 Session of %s confirmed online", email)
        return "online"
    return "offline"


def _renew_token(settings: Settings, email: str) -> SignedIn | None:
    token = secrets.stored_refresh_token(email)
    if token is None:
        log.warning("⚠️ No refresh token is kept for %s: the session cannot be renewed", email)
        return None
    from iamedic_desktop.auth import oauth

    try:
        renewed = oauth.refresh(settings, token)
    except oauth.ProviderUnreachableError as exc:
        log.warning("⚠️ Working offline: %s", exc.message)
        return None
    except AuthenticationError as exc:
        # Refused, not unreachable (access withdrawn, token revoked): offline time does not
        # apply to a sign-in the provider has ended.
        raise AuthenticationError(f"{exc.message} {stored.SIGN_IN_REQUIRED}.") from exc
    if renewed.email.casefold() != email.casefold():
        log.warning("⚠️ The provider renewed the sign-in of another account: not used")
        return None
    return renewed


def sign_out(uow_factory: UnitOfWorkFactory, settings: Settings) -> str | None:
    """End the current session and clear its secrets from the keyring; the e-mail, or None."""
    with uow_factory() as uow:
        uow.begin_write()
        row = stored.end_current_session(uow.session)
        user = uow.session.get(User, row.user_id) if row is not None else None
        email = user.email if user is not None else None
        uow.commit()
    if email is not None:
        secrets.forget_refresh_token(email)
    # The central login is the signed-in user's own: it goes with them.
    secrets.forget_central_password(settings)
    if email is not None:
        log.info("✅ Signed out %s; the store and its studies stay", email)
    return email


def session_info(uow_factory: UnitOfWorkFactory, state: SessionState) -> SessionInfo:
    """The acting user with their roles and doctor status, and the sign-in's state."""
    with uow_factory() as uow:
        session = uow.session
        user = session.get(User, state.actor.user_id)
        if user is None:
            raise AuthenticationError(f"{stored.SIGN_IN_REQUIRED}.")
        roles = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
        status = session.scalars(
            select(DoctorProfile.status).where(DoctorProfile.user_id == user.id)
        ).first()
        return SessionInfo(
            email=user.email,
            name=user.name,
            roles=roles,
            doctor_status=status,
            is_active=user.is_active is not False,
            mode="signed in" if state.signed_in else "local",
            online=state.online,
            valid_until=state.valid_until,
        )


# --- the local-mode studies ---------------------------------------------------------------------


def pending_local_studies(uow_factory: UnitOfWorkFactory) -> tuple[int, str | None]:
    """How many studies local mode left behind, and the answer already given on this store."""
    with uow_factory() as uow:
        return identity.local_study_count(uow.session), stored.local_studies_answer(uow.session)


def answer_local_studies(uow_factory: UnitOfWorkFactory, actor: Actor, *, take: bool) -> int:
    """Record the signed-in user's answer; when yes, re-own every local study in one go."""
    with uow_factory() as uow:
        uow.begin_write()
        row = stored.current_session(uow.session)
        if row is None or row.user_id != actor.user_id:
            raise AuthenticationError(f"{stored.SIGN_IN_REQUIRED}.")
        moved = identity.take_local_studies(uow.session, actor.user_id) if take else 0
        row.local_studies = stored.TAKEN if take else stored.LEFT
        uow.commit()
    return moved
