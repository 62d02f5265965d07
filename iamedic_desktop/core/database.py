"""Engines for the embedded store (SQLite, WAL) and the central PostgreSQL.

Every central engine is made by ``create_central_engine`` from ``central_engine_url``: psycopg2
as driver, and TLS as the URL's query asks for it (libpq's ``sslmode``, the CA file
``sslrootcert``, a client certificate ``sslcert``/``sslkey``), with ``~`` in those paths
expanded, since libpq itself does not. ``tls_refusal`` turns libpq's TLS refusals into a
sentence that says what to change.

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
from iamedic_desktop.core.settings import SSL_MODES


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
# The URL's query settings that name a file libpq reads.
TLS_FILES = ("sslrootcert", "sslcert", "sslkey")


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
    return _with_tls(parsed.set(drivername="postgresql+psycopg2"))


def _with_tls(url: URL) -> URL:
    """``url`` with a known TLS mode and its TLS file paths expanded (``~``: the home folder)."""
    mode = url.query.get("sslmode")
    if mode is not None and mode not in SSL_MODES:
        raise InvalidInputError(f"The TLS mode (sslmode) must be one of {', '.join(SSL_MODES)}.")
    files = {
        key: str(Path(value).expanduser())
        for key in TLS_FILES
        if isinstance(value := url.query.get(key), str) and value != "system"
    }
    return url.update_query_dict(files) if files else url


_HOST_MISMATCH = re.compile(r'server certificate for "([^"]*)".*does not match host name "([^"]*)"')
_NO_ROOT = re.compile(r'root certificate file "([^"]*)" does not exist')


def tls_refusal(driver_message: str) -> str | None:
    """What to change when libpq refused the link for a TLS reason; None for other reasons."""
    text = " ".join(driver_message.split())
    if match := _HOST_MISMATCH.search(text):
        return (
            f'The host-name check failed: the server\'s certificate is for "{match[1]}", not '
            f'for "{match[2]}" (TLS mode verify-full checks the host name). Connect by a name '
            "the certificate holds, or have the certificate made for this host name."
        )
    if "certificate verify failed" in text:
        return (
            "The server's certificate could not be verified with the CA file (sslrootcert): "
            "another CA signed it, or it has expired. Choose the CA file that signed the "
            "database server's certificate."
        )
    if match := _NO_ROOT.search(text):
        return (
            f"TLS modes verify-ca and verify-full need the server's CA file, and none is chosen "
            f"({match[1]} does not exist): choose the CA file (sslrootcert)."
        )
    # Only the unencrypted attempt had no pg_hba.conf entry (with TLS, another line would).
    if "no pg_hba.conf entry" in text and "no encryption" in text and "SSL enc" not in text:
        return (
            "The server accepts only encrypted connections and the TLS mode is disable: "
            "choose TLS mode verify-full with the server's CA file."
        )
    if "server does not support SSL" in text:
        return (
            "The server does not offer TLS, which the TLS mode requires: ask its administrator "
            "to turn TLS on (ssl = on and hostssl lines in pg_hba.conf)."
        )
    if "requires a valid client certificate" in text:
        return (
            "The server asks this user for a client certificate: put its files in the central "
            "URL as sslcert and sslkey."
        )
    return None


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
