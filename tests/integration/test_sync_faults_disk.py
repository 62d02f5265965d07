"""The local disk refuses the sync's writes: full in the middle of a pull that brings many rows
(a real small tmpfs), a read-only store database, or a read-only data folder (read-only mounts).
Each time the sync stops with one clear message naming the local store (never blaming the
central database), the store stays whole, the pull's position never passes what was applied,
nothing is pushed whose agreement could not be recorded; once the disk takes writes again, one
sync converges.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.models import Base
from iamedic_desktop.services import annotations as boxes
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.sync import local_side as ls
from iamedic_desktop.sync.central_feed import read_changes
from iamedic_desktop.sync.pull import CURSOR
from iamedic_desktop.sync.rows import NEVER_COPIED
from tests.support.fault_checks import (
    STUDY_TABLES,
    converged,
    doctor_scope,
    pending_edits,
    store_is_sound,
)
from tests.support.fault_world import World, build, sync, web_study
from tests.support.small_disk import fill
from tests.support.small_disk import small_disk as mount_small_disk
from tests.support.sync_world import all_tables, table_rows, workstation

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DISK = "16m"
LEFT_FREE = 300_000  # bytes: room for a few batches of the pull, not for all of them


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 16 MiB as the workstation's data folder (``<tmp_path>/world/ws``)."""
    with mount_small_disk(tmp_path / "world" / "ws", DISK) as folder:
        yield folder


def _rows_by_id(engine: Engine, world: World) -> dict[tuple[str, str], tuple]:
    out = {}
    for name in STUDY_TABLES:
        columns = [c.name for c in Base.metadata.tables[name].columns]
        at = [c for c in columns if c not in NEVER_COPIED.get(name, ())].index("id")
        for row in table_rows(engine, name, doctor_scope(name), {"me": world.doctor_id.hex}):
            out[(name, row[at].replace("-", ""))] = row
    return out


def _applied_up_to_the_cursor(world: World, central: Engine) -> int:
    """Every central row is here as it is centrally, still to come after the stored cursor,
    or edited here and waiting to be pushed; returns how many are still to come."""
    store = open_local_store(world.settings())
    try:
        with store.uow() as uow:
            cursor = ls.get_state(uow.session, CURSOR)
            waiting = {(name, row_id.hex) for name, row_id in ls.read_pending(uow.session)}
        local = _rows_by_id(store.engine, world)
    finally:
        store.close()
    with central.connect() as conn:
        coming, _ = read_changes(conn, cursor, doctor_id=world.doctor_id, limit=1_000_000)
    to_come = {(c.table, c.row_id.hex) for c in coming}
    for key, row in _rows_by_id(central, world).items():
        assert local.get(key) == row or key in to_come or key in waiting, key
    return len(to_come)


def test_a_full_disk_mid_pull_stops_it_clearly_and_the_next_sync_converges(
    pg_database: str, small_disk: Path, tmp_path: Path
) -> None:
    world = build(tmp_path / "world", pg_database, synced=True)
    sync(world)
    central = world.central()
    try:
        with central.begin() as conn:
            many = web_study(conn, world, world.doctor_id, "Many", media=150)
        with workstation(world.settings()) as ws:  # an edit waiting when the disk fills
            boxes.set_usefulness(ws.store.uow, ws.store.actor, _a_local_media(ws.store.engine), 0)
        edits = pending_edits(world.settings())
        assert edits
        filler = fill(small_disk, LEFT_FREE)

        with pytest.raises(StorageError) as full:
            sync(world, batch=200)

        message = full.value.message
        assert "disk holding the local store is full" in message, message
        assert "central database" not in message and "\n" not in message
        store_is_sound(world.settings())
        to_come = _applied_up_to_the_cursor(world, central)
        assert 0 < to_come < len(many) * 11, "the disk filled before the first batch or after all"
        filler.unlink()
        sync(world, batch=200)
        converged(world, edits)
    finally:
        central.dispose()


def _a_local_media(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT id FROM media WHERE mime_type LIKE 'image/%' "
                     "ORDER BY id LIMIT 1")
            ).scalar_one()
        )  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("pull", [True, False], ids=["sync", "push-only"])
def test_a_read_only_store_stops_the_sync_clearly_and_changes_nothing(
    pg_database: str, tmp_path: Path, pull: bool
) -> None:
    world = build(tmp_path / "world", pg_database, synced=True)
    edits = pending_edits(world.settings())
    db = world.settings().local_db_path
    central = world.central()
    try:
        before = (all_tables(central), sorted(p.name for p in world.web_media.iterdir()))
        stored = _sha256(db)
        # The database file alone is made read-only: the store opens, its writes are refused.
        assert _mount("--bind", str(db), str(db)).returncode == 0
        try:
            assert _mount("-o", "remount,bind,ro", str(db)).returncode == 0
            with workstation(world.settings()) as ws, pytest.raises(StorageError) as refused:
                ws.sync(do_pull=pull)
            message = refused.value.message
            assert "local store" in message and "cannot be written" in message, message
            assert "central database" not in message and "\n" not in message
            assert (all_tables(central), sorted(p.name for p in world.web_media.iterdir())) == (
                before
            )
        finally:
            subprocess.run(["umount", str(db)], check=True)
        assert _sha256(db) == stored
        store_is_sound(world.settings())
        sync(world)
        converged(world, edits)
    finally:
        central.dispose()


def _folder_files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _sha256(p) for p in folder.rglob("*") if p.is_file()}


def test_a_read_only_data_folder_is_refused_by_iamedic_sync_in_one_line_and_nothing_changes(
    pg_database: str, tmp_path: Path
) -> None:
    world = build(tmp_path / "world", pg_database, synced=True)
    edits = pending_edits(world.settings())
    folder = world.folder / "ws"
    env = {**os.environ, "IAMEDIC_DATA_DIR": str(folder), "IAMEDIC_CENTRAL_URL": world.central_url,
           "IAMEDIC_CENTRAL_MEDIA_DIR": str(world.web_media)}  # fmt: skip
    central = world.central()
    try:
        before = (all_tables(central), _folder_files(world.web_media), _folder_files(folder))
        assert _mount("--bind", str(folder), str(folder)).returncode == 0
        try:
            assert _mount("-o", "remount,bind,ro", str(folder)).returncode == 0
            refused = _iamedic_sync(env)
        finally:
            subprocess.run(["umount", str(folder)], check=True)
        assert refused.returncode == 1 and refused.stdout == ""
        lines = refused.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("❌ "), refused.stderr
        assert "cannot be written" in lines[0] and "Read-only" in lines[0], lines
        after = (all_tables(central), _folder_files(world.web_media), _folder_files(folder))
        assert after == before
        done = _iamedic_sync(env)
        assert done.returncode == 0, done.stderr
        converged(world, edits)
    finally:
        central.dispose()


def _iamedic_sync(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "iamedic_desktop", "sync"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
