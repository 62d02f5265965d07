"""Creating and upgrading the two databases the workstation migrates, with Alembic.

Two targets live in ``migrations/``: ``local`` (the embedded SQLite store) and ``central`` (the
workstation's own ``workstation`` schema in the central PostgreSQL, plus the ten web tables on
an empty database). No ``alembic.ini`` is needed: the configuration is built here.

The local store is checked at every start, so the at-head path reads the version row and the
revision file names only; Alembic itself is imported only when there is work to do.
Threading: call these from the database executor or a worker, never from the UI thread.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

import iamedic_desktop
from iamedic_desktop.core.errors import CentralDatabaseError, IamedicError, StorageError
from iamedic_desktop.models import CENTRAL_TABLES

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

LOCAL = "local"
CENTRAL = "central"
WORKSTATION_SCHEMA = "workstation"
WEB_REVISION = "92a0e66dec74"
WEB_TABLES: frozenset[str] = frozenset(CENTRAL_TABLES)
# Where central files live, chosen once per deployment (docs/SYNC.md, revision 0003).
FILE_STORAGE_KINDS = ("directory", "database")
# Revision files are named ``<rev>_<slug>.py`` with a four-digit, linear ``rev``.
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


@dataclass(frozen=True)
class MigrationStatus:
    """Where the local store stands: its revision (None if never migrated) and this build's."""

    current: str | None
    head: str
    is_current: bool


@dataclass(frozen=True)
class CentralStatus:
    """Where a central database stands; ``is_current`` means it is ready to be served as is."""

    workstation_current: str | None
    workstation_head: str
    web_revision: str | None
    central_tables_present: bool
    is_current: bool
    file_storage: str | None = None


def migrations_dir() -> Path:
    """The ``migrations`` folder: inside a PyInstaller bundle, or beside the package."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "migrations"
    return Path(iamedic_desktop.__file__).resolve().parent.parent / "migrations"


@cache
def revisions(target: str) -> tuple[str, ...]:
    """The revision ids of ``target`` (``local`` or ``central``), oldest first."""
    versions = migrations_dir() / target / "versions"
    try:
        names = [m.group(1) for p in versions.iterdir() if (m := _REVISION_FILE.match(p.name))]
    except OSError as exc:
        raise StorageError(
            f"The database migrations are missing from this installation ({versions})."
        ) from exc
    if not names:
        raise StorageError(
            f"The database migrations are missing from this installation ({versions})."
        )
    return tuple(sorted(names))


def alembic_config(target: str, connection: Connection) -> Config:
    """An Alembic configuration for ``target`` that migrates over ``connection``."""
    from alembic.config import Config

    config = Config()
    location = str(migrations_dir() / target).replace("%", "%%")
    config.set_main_option("script_location", location)
    config.attributes["connection"] = connection
    return config


# --- local store -------------------------------------------------------------------------


def local_status(engine: Engine) -> MigrationStatus:
    """The local store's revision compared with this build's head."""
    head = revisions(LOCAL)[-1]
    with _local_connection(engine) as conn:
        current = _read_version(conn, None)
    return MigrationStatus(current=current, head=head, is_current=current == head)


def upgrade_local(engine: Engine) -> None:
    """Create the local store, or upgrade it to this build's head, keeping every row."""
    known = revisions(LOCAL)
    where = _local_where(engine)
    with _local_connection(engine) as conn:
        current = _read_version(conn, None)
        if current == known[-1]:
            return
        if current is not None and current not in known:
            raise StorageError(
                f"The local store at {where} was written by a newer IAMEDIC Workstation "
                f"(schema revision {current}; this version knows up to {known[-1]}). "
                "Install the newer version to open it."
            )
        if current is None and set(inspect(conn).get_table_names()) - {"alembic_version"}:
            raise StorageError(
                f"The local store at {where} has tables but no schema revision: it was not "
                "created by IAMEDIC Workstation. Move it away to start with a new store."
            )
    log.info("🔧 Upgrading the local store at %s from %s to %s", where, current, known[-1])
    _run_upgrade(
        LOCAL,
        engine,
        lambda reason: StorageError(f"The local store at {where} could not be upgraded: {reason}"),
    )
    log.info("✅ Local store at %s is at schema revision %s", where, known[-1])


def _local_where(engine: Engine) -> str:
    return engine.url.database or ":memory:"


@contextmanager
def _local_connection(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StorageError(
            f"The local store at {_local_where(engine)} cannot be read: {_reason(exc)}"
        ) from exc


# --- central database --------------------------------------------------------------------


def central_status(engine: Engine) -> CentralStatus:
    """The workstation schema's revision, the web's revision and whether the tables exist."""
    head = revisions(CENTRAL)[-1]
    with _central_connection(engine) as conn:
        current = _read_version(conn, WORKSTATION_SCHEMA)
        web_revision = _read_version(conn, "public")
        present = _present_web_tables(conn)
        storage = read_file_storage(conn)
    complete = present == WEB_TABLES
    return CentralStatus(
        workstation_current=current,
        workstation_head=head,
        web_revision=web_revision,
        central_tables_present=complete,
        is_current=current == head and web_revision == WEB_REVISION and complete,
        file_storage=storage,
    )


def upgrade_central(engine: Engine, *, file_storage: str | None = None) -> None:
    """Create or upgrade the ``workstation`` schema; on an empty database, the web tables too.

    ``file_storage`` (``directory`` or ``database``) is recorded on the first upgrade that
    installs the deployment table; left out, it is ``database`` on an empty database (no web
    runs there) and ``directory`` where the web's tables were already there (the web's cleanup
    needs the files in its media folder). A recorded choice is never changed: asking for the
    other kind is refused before anything is touched.
    """
    if file_storage is not None and file_storage not in FILE_STORAGE_KINDS:
        raise CentralDatabaseError(
            f"Unknown file storage {file_storage!r}: choose {' or '.join(FILE_STORAGE_KINDS)}."
        )
    known = revisions(CENTRAL)
    where = _central_where(engine)
    with _central_connection(engine) as conn:
        current = _read_version(conn, WORKSTATION_SCHEMA)
        has_web_version = _has_table(conn, "public", "alembic_version")
        web_revision = _read_version(conn, "public")
        present = _present_web_tables(conn)
        recorded = read_file_storage(conn)
    empty = not present and not has_web_version and current is None
    if not empty and (web_revision != WEB_REVISION or present != WEB_TABLES):
        raise CentralDatabaseError(_incompatible(where, web_revision, has_web_version, present))
    _refuse_other_storage(where, recorded, file_storage)
    if current == known[-1]:
        if recorded is None and file_storage is not None:  # set up by the Alembic command line
            _record_file_storage(engine, where, file_storage, file_storage)
        log.info("✅ Central database at %s is at workstation revision %s", where, current)
        return
    if current is not None and current not in known:
        raise CentralDatabaseError(
            f"The central database at {where} was set up by a newer IAMEDIC Workstation "
            f"(workstation revision {current}; this version knows up to {known[-1]})."
        )
    log.info("🔧 Upgrading the central database at %s from %s to %s", where, current, known[-1])
    _run_upgrade(
        CENTRAL,
        engine,
        lambda reason: CentralDatabaseError(
            f"The central database at {where} could not be upgraded: {reason}"
        ),
    )
    # A database the web did not make first has no web to feed: its files go in the database.
    first_time = current is None and not present
    _record_file_storage(engine, where, file_storage, "database" if first_time else "directory")
    log.info("✅ Central database at %s is at workstation revision %s", where, known[-1])


def read_file_storage(conn: Connection) -> str | None:
    """The deployment's file storage kind; None before revision 0003 or before it is recorded."""
    if not _has_table(conn, WORKSTATION_SCHEMA, "deployment"):
        return None
    row = conn.execute(text("SELECT file_storage FROM workstation.deployment"))
    return row.scalar_one_or_none()


def _refuse_other_storage(where: str, recorded: str | None, requested: str | None) -> None:
    if recorded is not None and requested is not None and requested != recorded:
        raise CentralDatabaseError(
            f"The central database at {where} stores its files in the {recorded} kind of "
            f"storage, chosen when it was set up; it cannot be changed to {requested}. "
            "Nothing was changed."
        )


def _record_file_storage(engine: Engine, where: str, requested: str | None, default: str) -> None:
    """Record the kind unless one is recorded already (by an earlier or a concurrent upgrade)."""
    kind = requested or default
    with _central_connection(engine) as conn, conn.begin():
        if not _has_table(conn, WORKSTATION_SCHEMA, "deployment"):
            return
        inserted = conn.execute(
            text(
                "INSERT INTO workstation.deployment (file_storage) VALUES (:k) "
                "ON CONFLICT DO NOTHING"
            ),
            {"k": kind},
        ).rowcount
        recorded = read_file_storage(conn)
    _refuse_other_storage(where, recorded, requested)
    if inserted:
        log.info("🔧 Central files of %s are stored in the %s kind of storage", where, kind)


def _incompatible(where: str, web: str | None, has_version: bool, present: frozenset[str]) -> str:
    if web is not None and web != WEB_REVISION:
        return (
            f"The central database at {where} is at web revision {web}; this workstation "
            f"serves revision {WEB_REVISION} only. Nothing was changed."
        )
    missing = ", ".join(sorted(WEB_TABLES - present)) or "none"
    if web is not None:
        stamp = f"web revision {web}"
    else:
        stamp = "an empty web version table" if has_version else "no web version table"
    return (
        f"The central database at {where} is not an IAMEDIC database this workstation can "
        f"serve ({stamp}; missing tables: {missing}). Nothing was changed."
    )


def _central_where(engine: Engine) -> str:
    url = engine.url
    # Only what the URL says: without a host, libpq uses the local socket, not localhost:5432.
    host = url.host or "the local socket"
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database or ''}"


@contextmanager
def _central_connection(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        where = _central_where(engine)
        reason = _reason(exc, engine.url.password)
        raise CentralDatabaseError(
            f"The central database at {where} is not reachable: {reason}"
        ) from exc


def _present_web_tables(conn: Connection) -> frozenset[str]:
    rows = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    return frozenset(rows) & WEB_TABLES


# --- shared ------------------------------------------------------------------------------


def _has_table(conn: Connection, schema: str | None, name: str) -> bool:
    if conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT to_regclass(:n)"), {"n": f"{schema}.{name}"})
        return found.scalar() is not None
    return inspect(conn).has_table(name, schema=schema)


def _read_version(conn: Connection, schema: str | None) -> str | None:
    """The revision in ``<schema>.alembic_version``; None when there is no table or row."""
    if not _has_table(conn, schema, "alembic_version"):
        return None
    table = f"{schema}.alembic_version" if schema else "alembic_version"
    rows = conn.execute(text(f"SELECT version_num FROM {table}")).scalars().all()
    # A linear history has one row; several rows (branches) are not a revision this build has.
    return rows[0] if len(rows) == 1 else ("+".join(rows) or None)


def _run_upgrade(target: str, engine: Engine, error: Callable[[str], IamedicError]) -> None:
    """Run Alembic's upgrade to head; env.py owns the transaction and its locking."""
    from alembic import command
    from alembic.util import CommandError

    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(target, conn), "head")
    except IamedicError:
        raise
    except (SQLAlchemyError, CommandError, OSError) as exc:
        raise error(_reason(exc, engine.url.password)) from exc


def _reason(exc: BaseException, password: str | None = None) -> str:
    """The first line of the underlying driver's message, with any password blanked."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    first = lines[0] if lines else exc.__class__.__name__
    return first.replace(password, "***") if password else first


def run_env(migrate: Callable[[Connection], None], *, what: str, example_url: str) -> None:
    """The body of both ``env.py`` files: migrate over the application's connection, or over
    ``-x url=...`` when a developer runs Alembic from the command line."""
    from alembic import context

    from iamedic_desktop.core.database import create_engine_for_url

    if context.is_offline_mode():
        raise RuntimeError(f"The {what} is migrated online only (no --sql).")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(f"Pass the {what} with: alembic -x url={example_url} ...")
    engine = create_engine_for_url(url)
    try:
        with engine.connect() as conn:
            migrate(conn)
    finally:
        engine.dispose()
