"""Where the administration acts: the central database when it is configured and reachable,
otherwise this workstation's store.

On the central database users, roles and registrations are changed directly, never queued:
its unit of work has no outbox (the outbox hook is installed on the local session factory
only). The acting admin is found there by e-mail, since the local user row's id may differ from
the central one; the services then check the central user's own roles. The local-mode
clinician exists on this store only and never acts on the central database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, func, inspect, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from iamedic_desktop.core.database import tls_refusal
from iamedic_desktop.core.errors import CentralDatabaseError, PermissionDeniedError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import LocalIdentity, User
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services.local_mode import IDENTITY_ROW
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3
THIS_WORKSTATION = "this workstation"
# What psycopg2 says when the server answered but refused: not a network problem, so the
# admin is told rather than silently sent to the local store.
_REFUSALS = ("authentication", "password", "does not exist", "pg_hba", "permission denied")


@dataclass(frozen=True)
class AdminTarget:
    """The store an admin's action goes to, the actor there, and where that is in words."""

    uow: UnitOfWorkFactory
    actor: Actor
    where: str
    is_central: bool


def describe_central(url: str) -> str:
    """``central database host[:port]/name``: no user name, never a password."""
    parsed = make_url(url)
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"central database {host}{port}/{parsed.database or ''}"


@contextmanager
def admin_target(
    settings: Settings,
    local_uow: UnitOfWorkFactory,
    local_actor: Actor,
    *,
    connect_timeout: int = CONNECT_TIMEOUT_S,
) -> Iterator[AdminTarget]:
    """The target for one admin command or operation; a central engine is closed after it.

    Raises CentralDatabaseError when the central database answers but refuses the connection
    or lacks the IAMEDIC tables, and PermissionDeniedError when the actor cannot act there.
    """
    if not settings.central_url:
        yield AdminTarget(local_uow, local_actor, THIS_WORKSTATION, is_central=False)
        return
    from iamedic_desktop.auth.secrets import central_url
    from iamedic_desktop.core.database import create_engine_for_url

    where = describe_central(settings.central_url)
    engine = create_engine_for_url(
        central_url(settings), connect_args={"connect_timeout": connect_timeout}
    )
    try:
        if not _reachable(engine, where):
            log.warning("⚠️ The %s is unreachable: acting on this workstation", where)
            offline = f"{THIS_WORKSTATION} (offline: the {where} is unreachable)"
            yield AdminTarget(local_uow, local_actor, offline, is_central=False)
            return
        central = UnitOfWorkFactory(engine)
        actor = _central_actor(central, local_uow, local_actor, where)
        yield AdminTarget(central, actor, where, is_central=True)
    finally:
        engine.dispose()


def _reachable(engine: Engine, where: str) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(select(literal(1)))
            has_tables = inspect(conn).has_table(User.__tablename__)
    except DBAPIError as exc:
        if (tls := tls_refusal(str(exc.orig))) is not None:
            # A link refused for TLS is a setting to change, never "go local" quietly.
            log.error("❌ The %s refused the encrypted link", where)
            raise CentralDatabaseError(f"The {where} refused the connection: {tls}") from exc
        reason = str(exc.orig).lower()
        if any(word in reason for word in _REFUSALS):
            # The server's text may name the user; the password is never in it, nor here.
            log.error("❌ The %s refused the connection", where)
            raise CentralDatabaseError(
                f"The {where} refused the connection (wrong user, password or database "
                "name): check the central database settings and the password kept in the "
                "keyring."
            ) from exc
        return False
    if not has_tables:
        raise CentralDatabaseError(
            f"The {where} has no IAMEDIC tables: run `iamedic central upgrade`, or point the "
            "settings at the IAMEDIC database."
        )
    return True


def _central_actor(
    central: UnitOfWorkFactory, local_uow: UnitOfWorkFactory, local_actor: Actor, where: str
) -> Actor:
    with local_uow() as uow:
        identity = uow.session.get(LocalIdentity, IDENTITY_ROW)
    if identity is not None and identity.local_user_id == local_actor.user_id:
        raise PermissionDeniedError(
            f"The local-mode user works on this workstation only and cannot act on the {where}; "
            "sign in first (iamedic login)."
        )
    with central() as uow:
        user = uow.session.scalars(
            select(User).where(func.lower(User.email) == local_actor.email.lower())
        ).one_or_none()
        if user is None:
            raise PermissionDeniedError(
                f"The account {local_actor.email} is not known to the {where}; sign in again "
                "while online."
            )
        return Actor(user_id=user.id, email=user.email, name=user.name)
