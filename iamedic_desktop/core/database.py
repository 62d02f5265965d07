"""Engines for the embedded store (SQLite, WAL) and the central PostgreSQL.

Threading: an engine is shared; a Session is not. The UI never opens one: all local-store work
runs on the database executor (a later layer), each call in its own unit of work.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
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


def create_engine_for_url(url: str, **kwargs: Any) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite URLs get the store's pragmas."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError(f"Not a database URL: {url!r}.") from exc
    if parsed.get_backend_name() == "sqlite":
        return create_local_engine(parsed.database or ":memory:")
    return create_engine(parsed, pool_pre_ping=True, future=True, **kwargs)
