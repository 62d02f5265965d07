"""What a person checks after a sync was cut short and another one ran: the store opens whole,
central equals local, every media's file is in central storage whole, no row is there twice
and no edit made on the workstation before the fault is missing centrally.

``pending_edits`` is read before the fault (the outbox says what the workstation changed);
``converged`` compares afterwards and returns the central rows, so a test can also compare them
with those of a run that had no fault.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import MediaFile
from iamedic_desktop.services.local_mode import local_user_id
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.sync import local_side as ls
from iamedic_desktop.sync.engine import sync_status
from iamedic_desktop.sync.rows import (
    IDENTITY_TABLES,
    NATURAL_KEYS,
    TABLE_ORDER,
    content_hash,
    from_central,
    key_of,
)
from tests.support.fault_world import World
from tests.support.sync_world import table_rows, workstation

STUDY_TABLES = TABLE_ORDER[3:]


@dataclass(frozen=True)
class Edit:
    """A row the workstation changed and had not pushed: its identity and content (None:
    deleted)."""

    table: str
    key: tuple[str, ...]
    content: str | None


def pending_edits(settings: Settings) -> list[Edit]:
    """Every row waiting in the store's outbox, as it stands locally (but the local-mode
    clinician's own rows, which exist only on this workstation)."""
    store = open_local_store(settings)
    try:
        with store.uow() as uow:
            pending = ls.read_pending(uow.session)
            local_user = str(local_user_id(uow.session))
            edits = []
            for (name, row_id), entry in pending.items():
                row = ls.local_rows(uow.session, name, [row_id]).get(row_id)
                data = row if row is not None else entry.tombstone
                assert data is not None, (name, row_id)
                if name in IDENTITY_TABLES and local_user in (data["id"], data.get("user_id")):
                    continue
                edits.append(Edit(name, key_of(name, data), content_hash(name, row)))
    finally:
        store.close()
    return edits


def store_is_sound(settings: Settings) -> None:
    """The store's file passes SQLite's integrity and foreign-key checks."""
    conn = sqlite3.connect(settings.local_db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def doctor_scope(name: str) -> str:
    """A WHERE clause (``:me`` = the doctor's id as hex) for this doctor's rows of ``name``."""
    studies_of = "SELECT id FROM studies WHERE doctor_id = :me"
    media_of = f"SELECT id FROM media WHERE study_id IN ({studies_of})"
    if name == "studies":
        return "doctor_id = :me"
    if name == "media":
        return f"study_id IN ({studies_of})"
    if name == "frames":
        return f"video_media_id IN ({media_of})"
    assert name in TABLE_ORDER[5:], name
    return f"media_id IN ({media_of})"


def scoped_rows(engine: Engine, doctor_id: uuid.UUID) -> dict[str, set]:
    """This doctor's rows of every study table."""
    return {
        name: table_rows(engine, name, doctor_scope(name), {"me": doctor_id.hex})
        for name in STUDY_TABLES
    }


def converged(world: World, edits: list[Edit]) -> dict[str, set]:
    """Assert everything a person checks after recovery; return the doctor's central rows."""
    store_is_sound(world.settings())
    central = world.central()
    try:
        with workstation(world.settings()) as ws:
            status = sync_status(ws.store.uow)
            assert (status.pending, status.conflicts) == (0, 0), status
            local = scoped_rows(ws.store.engine, world.doctor_id)
            local_files = _local_files(ws.store.engine)
            assert ws.store.media.partial_files() == []
            _no_twins(ws.store.engine)
        rows = scoped_rows(central, world.doctor_id)
        for name in STUDY_TABLES:
            assert local[name] == rows[name], (
                name, sorted(local[name] - rows[name]), sorted(rows[name] - local[name]),
            )  # fmt: skip
        _no_twins(central)
        _files_whole(central, world.web_media, local_files)
        _edits_central(central, edits)
    finally:
        central.dispose()
    return rows


def _local_files(engine: Engine) -> dict[str, tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT file_path, size, sha256 FROM {MediaFile.__tablename__}")
        ).all()
    return {key: (size, digest) for key, size, digest in rows}


def _no_twins(engine: Engine) -> None:
    """No two rows with one natural key, no two media with one file."""
    keyed = {**NATURAL_KEYS, "media": ("file_path",)}
    with engine.connect() as conn:
        for name, keys in keyed.items():
            listed = ", ".join(keys)
            twins = conn.execute(
                text(f"SELECT {listed}, count(*) FROM {name} GROUP BY {listed} HAVING count(*) > 1")
            ).all()
            assert twins == [], (name, twins)


def _sha256(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def _files_whole(central: Engine, web_media: Path, local: dict[str, tuple[int, str]]) -> None:
    """Every central media's file is in the web's folder, whole: its size is the row's, its
    SHA-256 the one recorded centrally and the one the workstation recorded; nothing half
    written is left."""
    with central.connect() as conn:
        media = conn.execute(text("SELECT file_path, file_size FROM media")).all()
        recorded = {
            key: digest
            for key, digest in conn.execute(text("SELECT file_path, sha256 FROM workstation.files"))
        }
    for key, size in media:
        path = web_media / key
        assert path.is_file(), f"the file of media {key} is not in central storage"
        got = _sha256(path)
        assert got[0] == size, key
        if key in recorded:
            assert got[1] == recorded[key], key
        if key in local:
            assert got == local[key], key
    assert [p.name for p in web_media.iterdir() if p.name.startswith(".")] == []


def _edits_central(central: Engine, edits: list[Edit]) -> None:
    """Each edit made before the fault is central: the same content, or gone when deleted."""
    with central.connect() as conn:
        found: dict[tuple[str, tuple[str, ...]], str | None] = {}
        for name in {e.table for e in edits}:
            for (data,) in conn.execute(text(f"SELECT to_jsonb(t) FROM public.{name} t")):
                row = from_central(name, data)
                found[(name, key_of(name, row))] = content_hash(name, row)
    lost = [e for e in edits if found.get((e.table, e.key)) != e.content]
    assert lost == [], lost
