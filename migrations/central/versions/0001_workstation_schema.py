"""The workstation schema; on an empty database, also the web's ten tables, stamped.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

env.py has created the ``workstation`` schema (this history's version table lives there).
The web backend owns ``public``: when its tables are already there at revision 92a0e66dec74,
nothing in ``public`` is touched. On an empty database (a standalone deployment, a test) the
tables are created as the web's migration creates them and ``public.alembic_version`` is stamped,
so a web backend can adopt the database later. Anything in between is refused, and the
transaction leaves the database unchanged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from alembic.util import load_python_file

from iamedic_desktop.core.errors import CentralDatabaseError

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

web_schema = load_python_file(Path(__file__).resolve().parents[2], "web_schema_92a0e66dec74.py")
log = logging.getLogger("iamedic_desktop.migrations.central")


def _web_state() -> tuple[set[str], bool, list[str]]:
    """The web tables present in public, whether public.alembic_version exists, its rows."""
    bind = op.get_bind()
    present = set(
        bind.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
    ) & set(web_schema.WEB_TABLES)
    has_version = bind.execute(sa.text("SELECT to_regclass('public.alembic_version')")).scalar()
    rows: list[str] = []
    if has_version is not None:
        rows = list(
            bind.execute(sa.text("SELECT version_num FROM public.alembic_version")).scalars()
        )
    return present, has_version is not None, rows


def upgrade() -> None:
    """Adopt the web's tables, or create them on an empty database; refuse anything else."""
    present, has_version, rows = _web_state()
    if present == set(web_schema.WEB_TABLES) and rows == [web_schema.WEB_REVISION]:
        log.info("✅ Central tables of web revision %s found; public left as it is", rows[0])
        return
    if present or has_version:
        missing = sorted(set(web_schema.WEB_TABLES) - present)
        raise CentralDatabaseError(
            "This database is not an IAMEDIC central database at web revision "
            f"{web_schema.WEB_REVISION} (web version rows: {rows or 'none'}; missing tables: "
            f"{', '.join(missing) or 'none'}). Nothing was changed."
        )
    log.info(
        "🔧 Empty database: creating the central tables of web revision %s", web_schema.WEB_REVISION
    )
    web_schema.create_web_tables()
    op.create_table(
        "alembic_version",
        sa.Column("version_num", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
        schema="public",
    )
    op.execute(
        sa.text("INSERT INTO public.alembic_version (version_num) VALUES (:v)").bindparams(
            v=web_schema.WEB_REVISION
        )
    )


def downgrade() -> None:
    """Nothing in public: the web's tables stay, even where the workstation created them.

    The ``workstation`` schema itself is dropped by env.py once no revision is left.
    """
