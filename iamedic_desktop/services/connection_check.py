"""Test connection to a central PostgreSQL: reachable, server version, tables, schema, TLS.

Nothing is changed on the server: one connection reads the version, whether this connection is
encrypted (``pg_stat_ssl``), and where the IAMEDIC tables and the workstation schema stand.
The password is used to connect and never appears in the report or the log.

Threading: network I/O; run it in a worker (the settings dialog uses its operations runner).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.database import central_engine_url, create_central_engine
from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.migrate import central_status

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class ConnectionReport:
    """What Test connection found; ``reason`` says why when the server was not reached."""

    where: str
    reachable: bool
    reason: str = ""
    server_version: str = ""
    encrypted: bool = False
    tables_present: bool = False
    workstation_revision: str | None = None
    workstation_head: str = ""

    def summary(self) -> str:
        """Lines a person reads under the Test connection button."""
        if not self.reachable:
            return f"Not reachable: {self.where}. {self.reason}"
        link = "encrypted (TLS)" if self.encrypted else "NOT encrypted"
        tables = "present" if self.tables_present else "missing (run iamedic central upgrade)"
        if self.workstation_revision is None:
            schema = "missing (run iamedic central upgrade)"
        elif self.workstation_revision == self.workstation_head:
            schema = f"present, up to date ({self.workstation_revision})"
        else:
            schema = f"present at {self.workstation_revision}, this version needs " + (
                f"{self.workstation_head} (run iamedic central upgrade)"
            )
        return "\n".join(
            (
                f"Reachable: {self.where}, PostgreSQL {self.server_version}.",
                f"Link: {link}.",
                f"IAMEDIC tables: {tables}.",
                f"Workstation schema: {schema}.",
            )
        )


def check_connection(
    url: str, password: str | None = None, *, keyring_service: str | None = None
) -> ConnectionReport:
    """Connect to the central database at ``url`` and report what is there.

    The password is ``password`` when given, else the one the keyring keeps for the URL's user
    under ``keyring_service`` (if any): the same one the workstation would use.
    """
    target = central_engine_url(url)
    if not password and keyring_service and target.username:
        from iamedic_desktop.auth.secrets import keyring_password

        password = keyring_password(keyring_service, target.username)
    if password:
        target = target.set(password=password)
    engine = create_central_engine(
        target, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    where = f"{engine.url.host or 'the local socket'}:{engine.url.port or 5432}/"
    where += engine.url.database or ""
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            encrypted = conn.execute(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ).scalar()
        status = central_status(engine)
    except SQLAlchemyError as exc:
        reason = _first_line(exc, password)
        log.warning("⚠️ Test connection: %s is not reachable", where)
        return ConnectionReport(where, reachable=False, reason=reason)
    except IamedicError as exc:
        log.warning("⚠️ Test connection: %s could not be read", where)
        return ConnectionReport(where, reachable=False, reason=exc.message)
    finally:
        engine.dispose()
    log.info("✅ Test connection: %s reachable (PostgreSQL %s)", where, version)
    return ConnectionReport(
        where,
        reachable=True,
        server_version=str(version).split()[0],
        encrypted=bool(encrypted),
        tables_present=status.central_tables_present,
        workstation_revision=status.workstation_current,
        workstation_head=status.workstation_head,
    )


def _first_line(exc: SQLAlchemyError, password: str | None) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    first = lines[0] if lines else exc.__class__.__name__
    # libpq's text may repeat connection parameters; the password is never shown.
    return first.replace(password, "***") if password else first
