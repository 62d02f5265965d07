"""The central migrations: create on an empty database, adopt the web's, refuse anything else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.exc import OperationalError

from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.core.migrate import (
    CENTRAL,
    WEB_REVISION,
    alembic_config,
    central_status,
    revisions,
    upgrade_central,
)
from iamedic_desktop.models import Base, User

pytestmark = pytest.mark.postgres

HEAD = revisions(CENTRAL)[-1]

# Everything a migration could change, per schema; relation oids show a table dropped and remade.
_CATALOG = {
    "relations": """
        SELECT n.nspname, c.relname, c.relkind, c.oid::bigint FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(:schemas)""",
    "columns": """
        SELECT table_schema, table_name, ordinal_position, column_name, data_type, udt_name,
               character_maximum_length, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = ANY(:schemas)""",
    "constraints": """
        SELECT n.nspname, c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c
        JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = ANY(:schemas)""",
    "indexes": """
        SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = ANY(:schemas)""",
    "enums": """
        SELECT n.nspname, t.typname, e.enumsortorder, e.enumlabel FROM pg_enum e
        JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = ANY(:schemas)""",
    "triggers": """
        SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname = ANY(:schemas)""",
}


def _snapshot(engine: Engine, *schemas: str) -> dict[str, Any]:
    """The catalog of ``schemas`` (all but the system ones when none given) and its data."""
    with engine.connect() as conn:
        if not schemas:
            schemas = tuple(
                conn.execute(
                    text(
                        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                        "AND nspname <> 'information_schema'"
                    )
                ).scalars()
            )
        snapshot: dict[str, Any] = {"schemas": sorted(schemas)}
        for name, sql in _CATALOG.items():
            rows = conn.execute(text(sql), {"schemas": list(schemas)})
            snapshot[name] = sorted(tuple(str(v) for v in row) for row in rows)
        tables = [r for r in snapshot["relations"] if r[2] == "r"]
        snapshot["rows"] = {
            (s, t): conn.execute(text(f'SELECT count(*) FROM "{s}"."{t}"')).scalar()
            for s, t, _, _ in tables
        }
        if ("public", "alembic_version") in snapshot["rows"]:
            snapshot["web_version"] = (
                conn.execute(text("SELECT version_num FROM public.alembic_version")).scalars().all()
            )
    return snapshot


FEED_TRIGGER = "workstation_change_feed"
# Every trigger the revisions may put on the web's tables: the feed (0003), the audit log (0005),
# the login guard on users (0006).
WORKSTATION_TRIGGERS = frozenset(
    {FEED_TRIGGER, "workstation_change_log", "workstation_login_guard"}
)


def _without_feed_triggers(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as if the revisions' triggers (allowed on the web's tables) were not there."""
    triggers = [t for t in snapshot["triggers"] if t[2] not in WORKSTATION_TRIGGERS]
    return {**snapshot, "triggers": triggers}


def _feed_triggers(snapshot: dict[str, Any]) -> list[str]:
    return sorted(t[1] for t in snapshot["triggers"] if t[0] == "public" and t[2] == FEED_TRIGGER)


def _schemas(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())


def _web_database(engine: Engine, *, tables: list[str] | None = None, stamp: str | None) -> None:
    """Tables as the web backend leaves them (all, or some), stamped with ``stamp``."""
    chosen = [Base.metadata.tables[t] for t in tables] if tables is not None else None
    Base.metadata.create_all(engine, tables=chosen)
    with engine.begin() as conn:
        if stamp is not None:
            conn.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": stamp})
        if tables is None:
            conn.execute(
                insert(User.__table__).values(
                    id=uuid.uuid4(), email="web@example.org", name="Web", google_id="g-web"
                )
            )


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    yield engine
    engine.dispose()


def test_head_from_file_names_is_alembic_head(engine: Engine) -> None:
    with engine.connect() as conn:
        scripts = ScriptDirectory.from_config(alembic_config(CENTRAL, conn))
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]

    assert scripts.get_heads() == [HEAD]
    assert tuple(chain) == revisions(CENTRAL)


def test_empty_database_gets_the_web_tables_and_both_version_tables(engine: Engine) -> None:
    before = central_status(engine)
    upgrade_central(engine)
    after = central_status(engine)

    assert before.workstation_current is None
    assert before.web_revision is None
    assert before.central_tables_present is False
    assert before.is_current is False
    assert after.workstation_current == after.workstation_head == HEAD
    assert after.web_revision == WEB_REVISION
    assert after.central_tables_present is True
    assert after.is_current is True
    with engine.connect() as conn:
        public = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
        workstation = conn.execute(text("SELECT version_num FROM workstation.alembic_version"))
        assert workstation.scalars().all() == [HEAD]
    assert public == set(Base.metadata.tables) | {"alembic_version"}


def test_created_tables_match_the_models_without_drift(engine: Engine) -> None:
    upgrade_central(engine)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": lambda name, type_, _parent: (
                    not (type_ == "table" and name == "alembic_version")
                ),
            },
        )
        drift = compare_metadata(context, Base.metadata)

    assert drift == []


def test_second_upgrade_changes_nothing(engine: Engine) -> None:
    upgrade_central(engine)
    before = _snapshot(engine)

    upgrade_central(engine)

    assert _snapshot(engine) == before


def test_existing_web_database_is_left_untouched(engine: Engine) -> None:
    _web_database(engine, stamp=WEB_REVISION)
    public = _snapshot(engine, "public")
    assert public["rows"][("public", "users")] == 1

    upgrade_central(engine)

    after = _snapshot(engine, "public")
    assert _without_feed_triggers(after) == public
    assert _feed_triggers(after) == sorted(Base.metadata.tables)
    assert "workstation" in _schemas(engine)
    status = central_status(engine)
    assert (status.workstation_current, status.web_revision) == (HEAD, WEB_REVISION)
    assert status.is_current is True


@pytest.mark.parametrize(
    ("tables", "stamp", "expected"),
    [
        (["users", "studies"], None, "missing tables: doctor_profiles, frames"),
        (None, None, "no web version table"),
        (None, "0123456789ab", "web revision 0123456789ab"),
        (["users", "studies"], WEB_REVISION, "missing tables: doctor_profiles, frames"),
        ([], WEB_REVISION, "missing tables: doctor_profiles"),
    ],
    ids=["half-schema", "unstamped", "other-web-revision", "stamped-half", "stamp-only"],
)
def test_foreign_database_is_refused_unchanged(
    engine: Engine, tables: list[str] | None, stamp: str | None, expected: str
) -> None:
    _web_database(engine, tables=tables, stamp=stamp)
    before = _snapshot(engine)

    with pytest.raises(CentralDatabaseError, match="Nothing was changed") as raised:
        upgrade_central(engine)

    assert expected in str(raised.value)
    assert _snapshot(engine) == before
    assert "workstation" not in _schemas(engine)
    assert central_status(engine).is_current is False


def test_revision_itself_refuses_and_rolls_back(engine: Engine) -> None:
    # Straight through Alembic (the command line's path), past upgrade_central's own check.
    _web_database(engine, tables=["users", "studies"], stamp=None)
    before = _snapshot(engine)

    with engine.connect() as conn, pytest.raises(CentralDatabaseError, match="not an IAMEDIC"):
        command.upgrade(alembic_config(CENTRAL, conn), "head")

    assert _snapshot(engine) == before
    assert "workstation" not in _schemas(engine)


def test_web_revision_moved_on_after_setup_is_refused(engine: Engine) -> None:
    upgrade_central(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE public.alembic_version SET version_num = 'fedcba987654'"))

    assert central_status(engine).is_current is False
    with pytest.raises(CentralDatabaseError, match="web revision fedcba987654"):
        upgrade_central(engine)


def test_downgrade_of_0003_removes_all_it_added(engine: Engine) -> None:
    with engine.connect() as conn:
        command.upgrade(alembic_config(CENTRAL, conn), "0002")
    before = _snapshot(engine)
    upgrade_central(engine)
    assert _snapshot(engine) != before

    with engine.connect() as conn:
        command.downgrade(alembic_config(CENTRAL, conn), "0002")

    after = _snapshot(engine)
    assert after["triggers"] == []
    assert after == before


def test_downgrade_drops_only_the_workstation_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        command.upgrade(alembic_config(CENTRAL, conn), "0002")
    public = _snapshot(engine, "public")
    upgrade_central(engine)

    with engine.connect() as conn:
        command.downgrade(alembic_config(CENTRAL, conn), "base")

    assert "workstation" not in _schemas(engine)
    assert _snapshot(engine, "public") == public
    upgrade_central(engine)
    assert central_status(engine).is_current is True


def test_file_storage_defaults_to_the_database_on_an_empty_database(engine: Engine) -> None:
    upgrade_central(engine)

    assert central_status(engine).file_storage == "database"


def test_file_storage_defaults_to_the_web_folder_where_the_web_was_first(engine: Engine) -> None:
    _web_database(engine, stamp=WEB_REVISION)

    upgrade_central(engine)

    assert central_status(engine).file_storage == "directory"


def test_file_storage_once_chosen_is_never_changed(engine: Engine) -> None:
    upgrade_central(engine, file_storage="directory")
    before = _snapshot(engine)

    upgrade_central(engine, file_storage="directory")
    upgrade_central(engine)
    with pytest.raises(CentralDatabaseError, match="cannot be changed to database"):
        upgrade_central(engine, file_storage="database")

    assert _snapshot(engine) == before
    assert central_status(engine).file_storage == "directory"


def test_unreachable_server_is_reported_without_the_password() -> None:
    engine = create_engine("postgresql+psycopg2://iamedic:s3cret-pw@127.0.0.1:1/central")
    try:
        with pytest.raises(CentralDatabaseError, match="not reachable") as raised:
            upgrade_central(engine)
    finally:
        engine.dispose()

    assert "127.0.0.1:1/central" in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)
    assert isinstance(raised.value.__cause__, OperationalError)


# Created by the web's migration, missed by workstation revision 0001 on an empty database.
_LATE_INDEXES = {
    "ix_picture_classification_annotations_created_at": "created_at",
    "ix_picture_classification_annotations_media_type": "media_type",
}


def _public_indexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        )
        return {name: definition for name, definition in rows}


def test_upgrade_adds_the_web_indexes_a_0001_database_lacks(engine: Engine) -> None:
    # A database set up by a workstation at revision 0001: the two indexes are missing.
    with engine.connect() as conn:
        command.upgrade(alembic_config(CENTRAL, conn), "0001")
    with engine.begin() as conn:
        for name in _LATE_INDEXES:
            conn.execute(text(f"DROP INDEX IF EXISTS public.{name}"))
    before = _snapshot(engine, "public")

    upgrade_central(engine)

    indexes = _public_indexes(engine)
    for name, column in _LATE_INDEXES.items():
        assert indexes[name] == (
            f"CREATE INDEX {name} ON public.picture_classification_annotations "
            f"USING btree ({column})"
        )
    after = _snapshot(engine, "public")
    added = [r for r in after["indexes"] if r[2] in _LATE_INDEXES]
    assert sorted(after["indexes"]) == sorted([*before["indexes"], *added])
    after = _without_feed_triggers(after)
    for key in ("columns", "constraints", "enums", "triggers", "rows", "web_version"):
        assert after[key] == before[key], key
    assert central_status(engine).workstation_current == HEAD


def test_a_web_database_with_the_indexes_keeps_them_as_they_are(engine: Engine) -> None:
    _web_database(engine, stamp=WEB_REVISION)
    with engine.begin() as conn:
        # The web's own index, whatever its definition, is not replaced.
        conn.execute(
            text(
                "DROP INDEX public.ix_picture_classification_annotations_media_type;"
                "CREATE INDEX ix_picture_classification_annotations_media_type "
                "ON public.picture_classification_annotations (media_type, id)"
            )
        )
    public = _snapshot(engine, "public")

    upgrade_central(engine)

    assert _without_feed_triggers(_snapshot(engine, "public")) == public
