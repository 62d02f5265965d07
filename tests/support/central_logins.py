"""A central database owned by a web-like login, and per-user logins on it, for access tests.

The web's login is an ordinary login that owns the ten tables (not a superuser, which would
pass row-level security whatever the policies say), with CREATEROLE as the deployment guide
asks. Roles belong to the whole PostgreSQL cluster: every login a test makes is dropped after
it, with its sessions ended; the two group roles stay (other test databases use them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from iamedic_desktop.core.database import create_central_engine
from iamedic_desktop.core.migrate import upgrade_central
from tests.conftest import create_pg_database, drop_pg_database


@dataclass
class Central:
    """The test's central database: the web's login, its engine, and the superuser's URL."""

    url: URL  # as the web's login
    engine: Engine
    superuser_url: str
    web_login: str

    def url_as(self, login: str) -> URL:
        """The same database as another login (no password: the test cluster trusts)."""
        return self.url.set(username=login)

    def connect_as(self, login: str) -> Any:
        """A plain psycopg2 connection as ``login``: not the app's code."""
        return psycopg2.connect(
            host=self.url.host, port=self.url.port or 5432, dbname=self.url.database, user=login
        )


def _superuser(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def web_owned_central(server_url: str, *, createrole: bool = True) -> Iterator[Central]:
    """An empty database owned by a new web-like login; upgraded when it may create roles."""
    web = f"web_{uuid.uuid4().hex[:10]}"
    admin = _superuser(server_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {web} LOGIN {'CREATEROLE' if createrole else ''}"))
    url = create_pg_database(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{make_url(url).database}" OWNER TO {web}'))
    web_url = make_url(url).set(username=web)
    engine = create_central_engine(web_url)
    try:
        if createrole:
            upgrade_central(engine, file_storage="database")
        yield Central(web_url, engine, url, web)
    finally:
        engine.dispose()
        logins = _logins(url)
        _end_sessions(url, logins)
        drop_pg_database(url)
        with admin.connect() as conn:
            for login in [*logins, web]:
                conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        admin.dispose()


def grant(central: Central, email: str, *, as_login: str | None = None) -> str:
    """An enrollment code for ``email`` made by the web's login (or ``as_login``)."""
    engine = central.engine if as_login is None else create_central_engine(central.url_as(as_login))
    try:
        with engine.begin() as conn:
            return str(
                conn.execute(
                    text("SELECT code FROM workstation.grant_access(:e)"), {"e": email}
                ).scalar_one()
            )
    finally:
        if as_login is not None:
            engine.dispose()


def enroll(central: Central, code: str, password: str = "a-long-test-password-0123") -> str:
    """Redeem ``code`` (over the web's login, as any login may); the login it enabled."""
    with central.engine.begin() as conn:
        return str(
            conn.execute(
                text("SELECT role_name FROM workstation.enroll(:c, :p)"),
                {"c": code, "p": password},
            ).scalar_one()
        )


def login_for(central: Central, email: str) -> str:
    """A granted and enrolled login of ``email``."""
    return enroll(central, grant(central, email))


def _logins(url: str) -> list[str]:
    engine = _superuser(url)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('workstation.logins')")).scalar() is None:
                return []
            return list(conn.execute(text("SELECT role_name FROM workstation.logins")).scalars())
    finally:
        engine.dispose()


def _end_sessions(url: str, logins: list[str]) -> None:
    if not logins:
        return
    engine = _superuser(url)
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(:l)"
                ),
                {"l": logins},
            )
    finally:
        engine.dispose()
