"""Test connection to a central PostgreSQL: reachable, server version, tables, schema, TLS.

Nothing is changed on the server: one connection reads the version, whether this connection is
encrypted and how (``pg_stat_ssl``: TLS version, cipher, a client certificate), and where the
IAMEDIC tables and the workstation schema stand. Whether the server was verified is the TLS mode
libpq used for the link (``verify-ca``: its certificate is signed by the CA file;
``verify-full``: and it names the host connected to): libpq refuses the link otherwise. A TLS
refusal is explained by ``tls_refusal``. The password is used to connect and never appears in
the report or the log.

Threading: network I/O; run it in a worker (the settings dialog uses its operations runner).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.database import central_engine_url, create_central_engine, tls_refusal
from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.migrate import central_status

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
VERIFYING_MODES = ("verify-ca", "verify-full")


@dataclass(frozen=True)
class ConnectionReport:
    """What Test connection found; ``reason`` says why when the server was not reached."""

    where: str
    reachable: bool
    reason: str = ""
    tls_refused: bool = False
    server_version: str = ""
    encrypted: bool = False
    tls_version: str = ""
    tls_cipher: str = ""
    sslmode: str = ""  # the TLS mode libpq used for the link
    client_certificate: bool = False
    tables_present: bool = False
    workstation_revision: str | None = None
    workstation_head: str = ""

    @property
    def server_verified(self) -> bool:
        """The server's certificate was checked against the CA file (and, verify-full, its name)."""
        return self.encrypted and self.sslmode in VERIFYING_MODES

    def link(self) -> str:
        """The link in words: encrypted or not, and whether the server was verified."""
        if not self.encrypted:
            return (
                "NOT encrypted. Passwords and records cross the network readable: choose TLS "
                "mode verify-full with the server's CA file"
            )
        parts = [f"encrypted ({', '.join(p for p in (self.tls_version, self.tls_cipher) if p)})"]
        if self.sslmode == "verify-full":
            parts.append("server verified (certificate signed by the CA file, for this host)")
        elif self.sslmode == "verify-ca":
            parts.append(
                "server certificate signed by the CA file, host name not checked "
                "(verify-full checks it)"
            )
        else:
            parts.append(
                f"server NOT verified (TLS mode {self.sslmode or 'prefer'}: choose verify-full "
                "with the server's CA file)"
            )
        if self.client_certificate:
            parts.append("client certificate accepted")
        return " · ".join(parts)

    def summary(self) -> str:
        """Lines a person reads under the Test connection button."""
        if self.tls_refused:
            return f"Not connected: {self.where}. {self.reason}"
        if not self.reachable:
            return f"Not reachable: {self.where}. {self.reason}"
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
                f"Link: {self.link()}.",
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
            link = _link(conn)
        status = central_status(engine)
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc)
        tls = tls_refusal(cause)
        if tls is not None:
            log.warning("⚠️ Test connection: %s refused the link over TLS", where)
            return ConnectionReport(where, reachable=False, reason=tls, tls_refused=True)
        log.warning("⚠️ Test connection: %s is not reachable", where)
        return ConnectionReport(where, reachable=False, reason=_first_line(cause, password))
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
        **link,
        tables_present=status.central_tables_present,
        workstation_revision=status.workstation_current,
        workstation_head=status.workstation_head,
    )


def _link(conn: Connection) -> dict[str, Any]:
    """This connection's TLS as the server sees it, and the TLS mode libpq used."""
    row = conn.execute(
        text(
            "SELECT ssl, version, cipher, client_dn IS NOT NULL AS client_certificate "
            "FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
    ).one_or_none()
    dsn = conn.connection.dbapi_connection.get_dsn_parameters()  # type: ignore[union-attr]
    if row is None or not row.ssl:
        return {"encrypted": False, "sslmode": dsn.get("sslmode", "")}
    return {
        "encrypted": True,
        "tls_version": row.version or "",
        "tls_cipher": row.cipher or "",
        "sslmode": dsn.get("sslmode", ""),
        "client_certificate": bool(row.client_certificate),
    }


def _first_line(message: str, password: str | None) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    first = lines[0] if lines else "no reason given"
    # libpq's text may repeat connection parameters; the password is never shown.
    return first.replace(password, "***") if password else first
