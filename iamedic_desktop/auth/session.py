"""The stored sign-in session of a store: who acts, and how long they may work offline.

A session is a ``local_sessions`` row: the user who signed in, when the sign-in was last
confirmed online (``refreshed_at``) and when its ID token expires. It is valid for
``offline_days`` after the last online confirmation; after that every command and the window
refuse with "Sign-in required" until the user signs in or the refresh succeeds online. No secret
is kept here: the refresh token is in the OS keyring (``auth/secrets.py``).

Threading: these functions work inside the caller's SQLAlchemy session (one unit of work).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import AuthenticationError
from iamedic_desktop.models.local import LocalSession

if TYPE_CHECKING:
    from iamedic_desktop.auth.oauth import SignedIn

SIGN_IN_REQUIRED = "Sign-in required: run iamedic login"

# Answers to "make the local-mode studies yours?", recorded on the answering user's session.
TAKEN = "taken"
LEFT = "left"


def valid_until(row: LocalSession, offline_days: int) -> dt.datetime:
    """The moment the session stops working offline."""
    return row.refreshed_at + dt.timedelta(days=offline_days)


def refresh_due(row: LocalSession, offline_days: int, now: dt.datetime) -> bool:
    """Whether to confirm the session online now: its ID token or its offline time ran out."""
    return now >= row.token_expires_at or now >= valid_until(row, offline_days)


def require_valid(row: LocalSession, offline_days: int, now: dt.datetime) -> None:
    """Refuse a session past its offline limit (AuthenticationError, nothing changed)."""
    if now >= valid_until(row, offline_days):
        raise AuthenticationError(
            f"{SIGN_IN_REQUIRED} (the last online sign-in is more than {offline_days} "
            f"day{'s' if offline_days != 1 else ''} old)."
        )


def current_session(session: Session) -> LocalSession | None:
    """The session of the user acting on this store, if one is signed in."""
    return session.scalars(select(LocalSession).where(LocalSession.is_current)).first()


def ever_signed_in(session: Session) -> bool:
    """Whether a real user has signed in on this store (local mode is then over)."""
    return session.scalars(select(LocalSession.user_id).limit(1)).first() is not None


def record_sign_in(
    session: Session, user_id: uuid.UUID, signed_in: SignedIn, now: dt.datetime
) -> LocalSession:
    """Make ``user_id`` the store's signed-in user, confirmed online at ``now``."""
    session.execute(update(LocalSession).values(is_current=False))
    row = session.get(LocalSession, user_id)
    if row is None:
        row = LocalSession(user_id=user_id, signed_in_at=now)
        session.add(row)
    row.subject = signed_in.subject
    row.signed_in_at = now
    row.is_current = True
    record_refresh(row, signed_in, now)
    return row


def record_refresh(row: LocalSession, signed_in: SignedIn, now: dt.datetime) -> None:
    """The session confirmed online at ``now`` with a new ID token."""
    row.refreshed_at = now
    row.token_expires_at = signed_in.expires_at


def end_current_session(session: Session) -> LocalSession | None:
    """Sign the current user out of the store (their row stays, for the recorded answer)."""
    row = current_session(session)
    if row is not None:
        row.is_current = False
    return row


def local_studies_answer(session: Session) -> str | None:
    """The answer given on this store to "make the local-mode studies yours?", if any."""
    return session.scalars(
        select(LocalSession.local_studies)
        .where(LocalSession.local_studies.is_not(None))
        .order_by(LocalSession.signed_in_at.desc())
        .limit(1)
    ).first()
