"""Each user's own central database login: granted by an admin, enrolled once per workstation.

The rules live in the central database (revision 0006): ``workstation.grant_access(email)``
creates a login for the user and returns a one-time code; ``workstation.enroll(code,
password)`` redeems it once and gives the login its password; ``workstation.revoke_access``
disables every login of a user. This module calls them and keeps the workstation's side:
``enroll`` makes a strong password, sends only its SCRAM verifier, keeps the password in the
keyring under the login's name (before the code is committed as used, so a keyring that
refuses leaves the code valid), and makes that login the central URL's user in the settings
file. Neither the code nor the password is ever logged.

``login_refusal`` turns the server's refusal of a login into a sentence for a person.

Threading: blocking network calls; run them from the CLI or a worker, never the UI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from iamedic_desktop.core.errors import (
    AuthenticationError,
    CentralDatabaseError,
    ConflictError,
    IamedicError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
REVOKED = (
    "Your central database access was revoked; ask an administrator (your work stays on "
    "this workstation and syncs once access is granted again)."
)
_WRONG_PASSWORD = (
    "The central database refused the password of {user}: enroll this workstation again "
    "(iamedic central enroll CODE, with a code from an administrator), or enter the right "
    "password in Settings… > Central database."
)
_NOT_UPGRADED = (
    "The central database has no per-user logins yet: run iamedic central upgrade with this "
    "version first."
)
_ADMINS_ONLY = "Only an administrator can grant or revoke central database access."
# SQLSTATEs the workstation functions raise, by the error a person gets.
_ERRORS: dict[str, type[IamedicError]] = {
    "28000": AuthenticationError,  # invalid_authorization_specification: code or login refused
    "42501": PermissionDeniedError,  # insufficient_privilege
    "P0002": NotFoundError,  # no_data_found: no such user
    "21000": ConflictError,  # cardinality_violation: several users with that e-mail
    "55000": ConflictError,  # object_not_in_prerequisite_state: an inactive user
    "22023": InvalidInputError,  # invalid_parameter_value
}


@dataclass(frozen=True)
class AccessGrant:
    """A login made for a user and the one-time code that enrolls a workstation on it."""

    code: str
    login: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class AccessState:
    """A user's workstation logins on the central database, counted by state."""

    enrolled: int  # enabled and enrolled: a workstation connects with it
    waiting: int  # enabled, its code not yet redeemed
    revoked: int

    def summary(self) -> str:
        """``1 enrolled, 1 waiting for enrollment`` or ``none``, for the details panel."""
        parts = [
            f"{count} {label}"
            for count, label in (
                (self.enrolled, "enrolled"),
                (self.waiting, "waiting for enrollment"),
                (self.revoked, "revoked"),
            )
            if count
        ]
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Enrollment:
    """This workstation's login after enrollment, and where the settings now name it."""

    login: str
    user_id: uuid.UUID
    settings_file: Path
    overridden_by_environment: bool  # IAMEDIC_CENTRAL_URL wins over the settings file


def login_refusal(message: str, user: str | None = None) -> str | None:
    """What to tell a person when the server refused a login; None for other failures."""
    flat = " ".join(message.split())
    if "is not permitted to log in" in flat:
        return REVOKED
    if "password authentication failed" in flat:
        return _WRONG_PASSWORD.format(user=user or "this login")
    return None


def grant_access(central: Engine, email: str) -> AccessGrant:
    """A new login for the user with ``email`` and its enrollment code (an admin's call)."""
    with _transaction(central) as conn:
        code, login, expires_at = conn.execute(
            text("SELECT code, role_name, expires_at FROM workstation.grant_access(:e)"),
            {"e": email.strip()},
        ).one()
    log.info("✅ Central database access granted: login %s, code valid until %s", login, expires_at)
    return AccessGrant(code, login, expires_at)


def revoke_access(central: Engine, email: str) -> int:
    """Disable every login of the user with ``email``; how many were still enabled."""
    with _transaction(central) as conn:
        count: int = conn.execute(
            text("SELECT workstation.revoke_access(:e)"), {"e": email.strip()}
        ).scalar_one()
    log.info("✅ Central database access revoked: %d login(s) disabled", count)
    return count


def access_state(central: Engine, email: str) -> AccessState:
    """The logins of the user with ``email``, as an admin's login (or the web's) sees them."""
    with _transaction(central) as conn:
        enrolled, waiting, revoked = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE l.revoked_at IS NULL AND r.rolcanlogin), "
                "count(*) FILTER (WHERE l.revoked_at IS NULL AND NOT coalesce(r.rolcanlogin, "
                "false)), count(*) FILTER (WHERE l.revoked_at IS NOT NULL) "
                "FROM workstation.logins l JOIN public.users u ON u.id = l.user_id "
                "LEFT JOIN pg_roles r ON r.rolname = l.role_name "
                "WHERE lower(u.email) = lower(:e)"
            ),
            {"e": email.strip()},
        ).one()
    return AccessState(enrolled, waiting, revoked)


def enroll(settings: Settings, code: str) -> Enrollment:
    """Redeem ``code`` over the configured central URL and make its login this workstation's."""
    from psycopg2.extensions import encrypt_password

    from iamedic_desktop.auth.secrets import central_url, store_central_password
    from iamedic_desktop.core.database import create_central_engine
    from iamedic_desktop.core.settings_file import save_settings

    if not code.strip():
        raise InvalidInputError("Give the enrollment code an administrator made for you.")
    password = secrets.token_urlsafe(32)
    central = create_central_engine(
        central_url(settings),
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        hide_parameters=True,  # the code and the verifier stay out of any error text
    )
    try:
        with _transaction(central) as conn:
            dbapi: Any = conn.connection.dbapi_connection
            verifier = encrypt_password(password, "", dbapi, "scram-sha-256")
            login, user_id = conn.execute(
                text("SELECT role_name, user_id FROM workstation.enroll(:c, :p)"),
                {"c": code, "p": verifier},
            ).one()
            # Kept before the code is spent: a keyring that refuses rolls the redemption back.
            store_central_password(settings, password, username=login)
    finally:
        central.dispose()
    url = make_url(str(settings.central_url)).set(username=login, password=None)
    written = save_settings({"central_url": url.render_as_string(hide_password=False)})
    log.info("✅ This workstation is enrolled as central login %s", login)
    return Enrollment(login, user_id, written, "IAMEDIC_CENTRAL_URL" in os.environ)


@contextmanager
def _transaction(central: Engine) -> Iterator[Connection]:
    """A connection in a transaction; SQLAlchemy errors become messages for a person."""
    try:
        with central.connect() as conn, conn.begin():
            yield conn
    except SQLAlchemyError as exc:
        raise _translated(exc, central.url.username) from exc


def _translated(exc: SQLAlchemyError, user: str | None) -> IamedicError:
    cause = getattr(exc, "orig", None) or exc
    code = getattr(cause, "pgcode", None) if isinstance(exc, DBAPIError) else None
    diag = getattr(cause, "diag", None)
    primary = getattr(diag, "message_primary", None) or ""
    lines = str(cause).strip().splitlines()
    first = lines[0] if lines else type(cause).__name__
    if code == "42883" or (code == "3F000" and "workstation" in first):
        return CentralDatabaseError(_NOT_UPGRADED)
    if code == "42501" and primary.startswith("permission denied for function"):
        return PermissionDeniedError(_ADMINS_ONLY)
    if code in _ERRORS and primary:
        return _ERRORS[code](primary)
    refusal = login_refusal(first, user)
    if refusal is not None:
        return AuthenticationError(refusal)
    return CentralDatabaseError(f"The central database cannot be reached: {first}")


def check_login(conn: Connection, user_id: uuid.UUID, email: str) -> None:
    """Refuse a sync whose central login is revoked or belongs to another user.

    A login that is not a workstation login (the web's, a superuser's, a shared one) passes.
    """
    found = conn.execute(
        text(
            "SELECT to_regclass('workstation.logins') IS NOT NULL "
            "AND has_table_privilege('workstation.logins', 'SELECT')"
        )
    ).scalar()
    if not found:
        return
    login = conn.execute(
        text(
            "SELECT user_id, revoked_at IS NOT NULL FROM workstation.logins "
            "WHERE role_name = current_user"
        )
    ).first()
    if login is None:
        return
    if login[1]:
        raise AuthenticationError(REVOKED)
    if login[0] != user_id:
        raise AuthenticationError(
            f"This workstation's central login belongs to another account than {email}: "
            "sign in with that account, or enroll this workstation again with a code made "
            f"for {email}."
        )
