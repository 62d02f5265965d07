"""Alembic environment of the workstation's part of the central PostgreSQL.

The web backend owns ``public`` and its ``public.alembic_version``; this history keeps its own
version table in the ``workstation`` schema. Everything runs in one transaction, so a refused
or failed upgrade leaves the database exactly as it was.

``iamedic_desktop.core.migrate`` passes an open connection in ``config.attributes``; the
Alembic command line (``migrations/alembic.ini``) passes ``-x url=postgresql://...`` instead.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, text

from iamedic_desktop.core.migrate import run_env
from iamedic_desktop.models import Base

SCHEMA = "workstation"
# Any fixed number: serialises workstations that upgrade the same database at the same time.
_LOCK_KEY = 0x1A3ED1C

target_metadata = Base.metadata


def _include_name(name: str | None, type_: str, _parent: dict[str, Any]) -> bool:
    # The web's version table is not a model; autogenerate must neither drop nor alter it.
    return not (type_ == "table" and name == "alembic_version")


def _migrate(connection: Connection) -> None:
    with connection.begin():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        # The web's tables and enum types live in public, whatever the role's search_path says.
        connection.execute(text("SET LOCAL search_path TO public"))
        exists = connection.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": SCHEMA}
        ).scalar()
        if not exists:
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=SCHEMA,
            include_name=_include_name,
            compare_type=True,
            compare_server_default=True,
        )
        context.run_migrations()
        # The version table lives in the schema, so no revision can drop the schema itself:
        # once the last revision is downgraded, the schema goes here (public is never touched).
        if not context.get_context().get_current_heads():
            connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))


run_env(_migrate, what="central database", example_url="postgresql://...")
