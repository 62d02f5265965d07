"""The SQL that docs/DEPLOYMENT.md gives the hospital's IT does what the page says."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from iamedic_desktop.core.database import create_central_engine
from iamedic_desktop.core.migrate import WEB_REVISION, central_status, upgrade_central
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.sync import devices
from iamedic_desktop.sync.central_feed import current_versions, read_changes
from iamedic_desktop.sync.central_files import open_central_files
from iamedic_desktop.sync.notifications import ChangeListener
from tests.integration.test_migrations_central import _schemas, _snapshot, _web_database
from tests.support.web_writes import insert_media, insert_study, insert_user, save_boxes

pytestmark = pytest.mark.postgres

DOC = Path(__file__).resolve().parents[2] / "docs" / "DEPLOYMENT.md"


def _sql_block(containing: str) -> str:
    """The doc's one ```sql block that contains ``containing``."""
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    chosen = [b for b in blocks if containing in b]
    assert len(chosen) == 1, f"one sql block with {containing!r} in {DOC.name}"
    return chosen[0]


def _run_script(engine: Engine, script: str) -> None:
    """Run the block as psql would: its statements as written, its own BEGIN and COMMIT."""
    raw = engine.raw_connection()
    try:
        connection: Any = raw.dbapi_connection
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(script)
    finally:
        raw.invalidate()  # an autocommit connection never goes back to the pool


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    yield engine
    engine.dispose()


def test_the_removal_block_leaves_the_webs_schema_exactly_as_it_was(engine: Engine) -> None:
    _web_database(engine, stamp=WEB_REVISION)
    with engine.begin() as conn:
        doctor = insert_user(conn)
        insert_study(conn, doctor)
    public = _snapshot(engine, "public")
    upgrade_central(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE studies SET alias = 'S-2'"))  # a feed entry, no new row
    assert _snapshot(engine, "public") != public  # the triggers are there

    _run_script(engine, _sql_block("DROP SCHEMA IF EXISTS workstation CASCADE"))

    assert "workstation" not in _schemas(engine)
    assert _snapshot(engine, "public") == public
    with engine.connect() as conn:
        functions = conn.execute(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'record_change'")
        ).scalar()
    assert functions == 0
    upgrade_central(engine)
    assert central_status(engine).is_current is True


def test_an_enrolled_login_does_each_central_operation_of_a_workstation(
    engine: Engine, tmp_path: Path
) -> None:
    upgrade_central(engine, file_storage="database")
    with engine.begin() as conn:
        doctor = insert_user(conn)
        email = conn.execute(text("SELECT email FROM users WHERE id = :d"), {"d": doctor}).scalar()
    grant = _sql_block("workstation.grant_access").replace("doctor@hospital.org", str(email))
    with engine.begin() as conn:
        code = conn.execute(text(grant)).mappings().one()["code"]
        role = conn.execute(
            text("SELECT role_name FROM workstation.enroll(:c, 'a-password-of-16+')"), {"c": code}
        ).scalar_one()
    workstation = create_central_engine(engine.url.set(username=role))
    content = b"scan" * 100
    try:
        assert central_status(workstation).is_current is True
        with ChangeListener(workstation) as listener:
            with workstation.begin() as conn:
                study = insert_study(conn, doctor)
            assert listener.wait(5.0) == {str(doctor)}
        source = tmp_path / "scan.bin"
        source.write_bytes(content)
        files = open_central_files(Settings(central_media_dir=None), workstation.connect)
        key = str(uuid.uuid4())
        files.put(key, source, len(content), hashlib.sha256(content).hexdigest())
        with workstation.begin() as conn:
            media = insert_media(conn, study, file_path=key, file_size=len(content))
            save_boxes(conn, media, ["CM"])
        with workstation.connect() as conn:
            changes, cursor = read_changes(conn, None, doctor_id=doctor)
        with workstation.connect() as conn:
            versions = current_versions(conn, "media", [media])
        with workstation.connect() as conn:
            device = uuid.uuid4()
            devices.register(conn, device, "ws-1", doctor)
            saved = devices.save_cursor(conn, device, cursor)
        with workstation.begin() as conn:
            conn.execute(text("DELETE FROM studies WHERE id = :s"), {"s": study})
        stored = b"".join(files.open_stream(key))
    finally:
        workstation.dispose()
        with engine.begin() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
        with engine.begin() as conn:
            conn.execute(text(f"DROP ROLE {role}"))

    assert [c.table for c in changes] == ["users", "studies", "media", "picture_bb_annotations"]
    assert versions == {media: 1}
    assert saved.cursor == cursor
    assert stored == content
