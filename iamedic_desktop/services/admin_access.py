"""Workstation access of a user as the Administration tab manages it, at the admin's target.

Qt-free; every function runs on a worker (``ui/operations.py``), never on the UI thread.
"""

from __future__ import annotations

from sqlalchemy import Engine

from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.services.admin_target import AdminTarget
from iamedic_desktop.services.central_access import (
    AccessGrant,
    AccessState,
    access_state,
    grant_access,
    revoke_access,
)

NOT_CENTRAL = (
    "Workstation access is kept on the central database, which is not in use here: "
    "configure it in Settings… > Central database, or check that it is reachable."
)


def central_engine(target: AdminTarget, refusal: str = NOT_CENTRAL) -> Engine:
    """The central database of an admin target; ``refusal`` when the target is this workstation."""
    if not target.is_central:
        raise CentralDatabaseError(refusal)
    return target.uow.engine


def read_state(email: str, target: AdminTarget) -> AccessState | None:
    """The user's logins; None when the target is this workstation (no logins there)."""
    return access_state(target.uow.engine, email) if target.is_central else None


def grant(email: str, target: AdminTarget) -> tuple[AccessGrant, AccessState]:
    """A new login and its code for the user, and their logins afterwards."""
    engine = central_engine(target)
    return grant_access(engine, email), access_state(engine, email)


def revoke(email: str, target: AdminTarget) -> tuple[int, AccessState]:
    """Every login of the user disabled; how many, and their logins afterwards."""
    engine = central_engine(target)
    return revoke_access(engine, email), access_state(engine, email)
