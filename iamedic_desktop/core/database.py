"""Engines for the embedded store (SQLite, WAL) and the central PostgreSQL.

Threading: an engine is shared; a Session is not. The UI never opens one: all local-store work
runs on the database executor (a later layer), each call in its own unit of work.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from iamedic_desktop.core.errors import InvalidInputError


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a kill mid-write leaves the last commit intact.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_local_engine(path: Path | str) -> Engine:
    """An engine on the SQLite store at ``path`` (created if missing) with WAL and foreign keys."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# The forms the web itself writes its URL in; SQLAlchemy would give the bare ``postgresql://``
# psycopg 3, which is not installed: every accepted form is driven by psycopg2.
CENTRAL_URL_FORMS = "postgresql://, postgresql+psycopg2:// or postgres://"
_CENTRAL_DRIVERS = frozenset({"postgresql", "postgresql+psycopg2", "postgres"})
_CENTRAL_EXAMPLE = "postgresql://user@host:port/database"


def central_engine_url(url: str | URL) -> URL:
    """The central database URL with psycopg2 as its driver; any other database is refused.

    The message never repeats the URL, which may carry a password.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise InvalidInputError(
            f"The central database URL is not a URL: write it as {_CENTRAL_EXAMPLE} "
            f"(accepted forms: {CENTRAL_URL_FORMS})."
        ) from exc
    if parsed.drivername not in _CENTRAL_DRIVERS:
        scheme = parsed.drivername
        shown = f"a {scheme}:// URL" if re.fullmatch(r"[\w.+-]{1,40}", scheme) else "another URL"
        raise InvalidInputError(
            f"The central database must be PostgreSQL through psycopg2, given as "
            f"{CENTRAL_URL_FORMS}; got {shown}."
        )
    return parsed.set(drivername="postgresql+psycopg2")


def create_central_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine on the central PostgreSQL; nothing is connected (or created) until it is used."""
    return create_engine(central_engine_url(url), pool_pre_ping=True, **kwargs)


def create_engine_for_url(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLite URL (with the store's pragmas) or a central PostgreSQL URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        return create_local_engine(parsed.database or ":memory:")
    return create_central_engine(url, **kwargs)
