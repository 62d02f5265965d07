"""Alembic environment of the embedded store (SQLite in WAL mode).

``iamedic_desktop.core.migrate`` passes an open connection in ``config.attributes``; the
Alembic command line (``migrations/alembic.ini``) passes ``-x url=sqlite:///path`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from iamedic_desktop.core.database import create_engine_for_url
from iamedic_desktop.models import Base, LocalBase

target_metadata = [Base.metadata, LocalBase.metadata]


def _migrate(connection: Connection) -> None:
    # Batch operations rebuild a table (copy, drop, rename). With foreign keys on, dropping a
    # parent table would cascade-delete its children's rows, and the pragma cannot change inside
    # a transaction: switch it off here, check the keys before committing, switch it back on.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        with connection.begin():
            # pysqlite opens a transaction only before DML; BEGIN IMMEDIATE makes the DDL part of
            # it (all or nothing) and holds the write lock, so two starting apps cannot race.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                compare_type=True,
            )
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def run() -> None:
    """Migrate over the given connection, or over ``-x url=...`` from the command line."""
    if context.is_offline_mode():
        raise RuntimeError("The local store is migrated online only (no --sql).")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Pass the store with: alembic -x url=sqlite:///path/to/store ...")
    engine = create_engine_for_url(url)
    try:
        with engine.connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


run()
