"""Alembic environment of the embedded store (SQLite in WAL mode).

``iamedic_desktop.core.migrate`` passes an open connection in ``config.attributes``; the
Alembic command line (``migrations/alembic.ini``) passes ``-x url=sqlite:///path`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from iamedic_desktop.core.migrate import run_env
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


run_env(_migrate, what="local store", example_url="sqlite:///path/to/store")
