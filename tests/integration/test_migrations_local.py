"""The embedded store's migrations: schema equals the models, upgrades keep every row."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.core.migrate import (
    LOCAL,
    alembic_config,
    local_status,
    revisions,
    upgrade_local,
)
from iamedic_desktop.models import (
    Base,
    DoctorProfile,
    Frame,
    LocalBase,
    LocalIdentity,
    Media,
    OutboxEntry,
    PictureBBAnnotation,
    PictureBBPrediction,
    PictureClassificationAnnotation,
    PictureClassificationPrediction,
    Study,
    User,
    UserRole,
)
from iamedic_desktop.services.unit_of_work import make_session_factory
from iamedic_desktop.sync.outbox import track_local_changes

TARGET_METADATA = [Base.metadata, LocalBase.metadata]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "iamedic.sqlite3"


@pytest.fixture
def engine(store_path: Path) -> Any:
    engine = create_local_engine(store_path)
    yield engine
    engine.dispose()


def _drift(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, TARGET_METADATA)


def _alembic(engine: Engine, step: Any, revision: str) -> None:
    """Run an Alembic command (``command.upgrade``/``downgrade``) to ``revision``."""
    with engine.connect() as conn:
        step(alembic_config(LOCAL, conn), revision)


def _schema(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
        return [tuple(row) for row in rows]


def test_new_store_matches_the_models_without_drift(engine: Engine) -> None:
    upgrade_local(engine)

    assert _drift(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert tables == set(Base.metadata.tables) | set(LocalBase.metadata.tables) | {
        "alembic_version"
    }
    for table in Base.metadata.sorted_tables:
        actual = {ix["name"] for ix in inspect(engine).get_indexes(table.name)}
        assert actual == {ix.name for ix in table.indexes}, table.name


def test_drift_check_sees_a_missing_index(engine: Engine) -> None:
    upgrade_local(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_media_mime_type"))

    drift = _drift(engine)

    assert [(d[0], d[1].name) for d in drift] == [("add_index", "ix_media_mime_type")]


def test_head_from_file_names_is_alembic_head(engine: Engine) -> None:
    with engine.connect() as conn:
        scripts = ScriptDirectory.from_config(alembic_config(LOCAL, conn))
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]

    assert scripts.get_heads() == [revisions(LOCAL)[-1]]
    assert tuple(chain) == revisions(LOCAL)


def test_status_of_new_and_migrated_store(engine: Engine) -> None:
    head = revisions(LOCAL)[-1]
    before = local_status(engine)
    upgrade_local(engine)
    after = local_status(engine)

    assert (before.current, before.head, before.is_current) == (None, head, False)
    assert (after.current, after.head, after.is_current) == (head, head, True)


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade_local(engine)
    schema = _schema(engine)
    upgrade_local(engine)

    assert _schema(engine) == schema


def _seed(engine: Engine) -> None:
    """One row in each central table and the identity row, as a 0001 store would hold."""
    now = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    ids = {name: uuid.uuid4() for name in ("user", "study", "video", "still")}
    common = {"created_at": now, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(
            insert(User.__table__).values(
                id=ids["user"], email="dr@example.org", name="Dr A", google_id="g-1", **common
            )
        )
        conn.execute(
            insert(UserRole.__table__).values(
                id=uuid.uuid4(), user_id=ids["user"], role="doctor", **common
            )
        )
        conn.execute(
            insert(DoctorProfile.__table__).values(
                id=uuid.uuid4(),
                user_id=ids["user"],
                matriculation_id="M-1",
                legal_name="Dr A",
                specialization="obstetrics",
                status="approved",
                **common,
            )
        )
        conn.execute(
            insert(Study.__table__).values(
                id=ids["study"], doctor_id=ids["user"], alias="S1", is_active=True, **common
            )
        )
        for key, kind, mime in (("video", "video", "video/mp4"), ("still", "frame", "image/jpeg")):
            conn.execute(
                insert(Media.__table__).values(
                    id=ids[key],
                    study_id=ids["study"],
                    filename=f"{key}.bin",
                    file_path=uuid.uuid4().hex,
                    file_size=1234,
                    mime_type=mime,
                    media_type=kind,
                    upload_status="uploaded",
                    is_active=True,
                    **common,
                )
            )
        conn.execute(
            insert(Frame.__table__).values(
                id=uuid.uuid4(),
                video_media_id=ids["video"],
                frame_media_id=ids["still"],
                timestamp_seconds=1.5,
                frame_number=45,
                width=640,
                height=480,
                is_active=True,
                **common,
            )
        )
        still = {"id": uuid.uuid4(), "media_id": ids["still"], "media_type": "frame", **common}
        conn.execute(
            insert(PictureClassificationPrediction.__table__).values(
                **still, prediction=0.8, model_version="frame_classifier_224x224 - 3"
            )
        )
        still["id"] = uuid.uuid4()
        conn.execute(
            insert(PictureClassificationAnnotation.__table__).values(**still, usefulness=1)
        )
        box = {"x_min": 10.0, "y_min": 20.0, "width": 30.0, "height": 40.0}
        still["id"] = uuid.uuid4()
        conn.execute(
            insert(PictureBBPrediction.__table__).values(
                **still, **box, bb_class="NT", confidence=0.9, model_version="bb - 1"
            )
        )
        still["id"] = uuid.uuid4()
        conn.execute(
            insert(PictureBBAnnotation.__table__).values(
                **still, **box, bb_class="NT", usefulness=1, is_hidden=False
            )
        )
        conn.execute(
            insert(LocalIdentity.__table__).values(id=1, device_id=uuid.uuid4(), created_at=now)
        )


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))]
            for name in [*Base.metadata.tables, "local_identity"]
        }


def test_upgrade_from_0001_keeps_every_row(engine: Engine) -> None:
    _alembic(engine, command.upgrade, "0001")
    _seed(engine)
    before = _rows(engine)
    assert all(before.values()), "every table holds a row before the upgrade"

    upgrade_local(engine)

    assert local_status(engine).is_current
    assert _rows(engine) == before
    assert _drift(engine) == []
    # The upgraded store works: a local edit lands in the new outbox.
    session_factory = make_session_factory(engine)
    track_local_changes(session_factory)
    with session_factory() as session:
        study = session.scalars(select(Study)).one()
        study.alias = "S1 renamed"
        session.commit()
        outbox = session.scalars(select(OutboxEntry)).all()
    assert [(e.table_name, e.row_id, e.operation) for e in outbox] == [
        ("studies", study.id, "update")
    ]


def test_downgrade_and_upgrade_again_round_trip(engine: Engine) -> None:
    upgrade_local(engine)
    schema = _schema(engine)

    _alembic(engine, command.downgrade, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade_local(engine)

    assert _schema(engine) == schema


def test_foreign_keys_are_enforced_after_an_upgrade(engine: Engine) -> None:
    upgrade_local(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_store_of_a_newer_build_is_refused_unchanged(engine: Engine, store_path: Path) -> None:
    upgrade_local(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    schema = _schema(engine)

    with pytest.raises(StorageError, match="newer IAMEDIC Workstation") as raised:
        upgrade_local(engine)

    assert str(store_path) in str(raised.value)
    assert "0999" in str(raised.value)
    assert _schema(engine) == schema
    assert local_status(engine).is_current is False


def test_file_that_is_not_a_database_is_refused(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"this is a text file, not SQLite " * 200)
    engine = create_local_engine(store_path)
    try:
        with pytest.raises(StorageError, match="cannot be read") as raised:
            upgrade_local(engine)
    finally:
        engine.dispose()
    assert str(store_path) in str(raised.value)
    assert raised.value.__cause__ is not None


def test_database_of_another_program_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))

    with pytest.raises(StorageError, match="no schema revision"):
        upgrade_local(engine)

    assert inspect(engine).get_table_names() == ["notes"]


def test_store_at_head_does_not_load_alembic(engine: Engine, store_path: Path) -> None:
    upgrade_local(engine)
    engine.dispose()
    code = (
        "import sys\n"
        "from iamedic_desktop.core.database import create_local_engine\n"
        "from iamedic_desktop.core.migrate import upgrade_local\n"
        "upgrade_local(create_local_engine(sys.argv[1]))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(store_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert result.stdout.strip() == "[]"
