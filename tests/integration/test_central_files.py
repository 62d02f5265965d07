"""Central file storage of both kinds, the deployment check, devices, and the web's cleanup."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from iamedic_desktop.core.errors import ConflictError, NotFoundError, StorageError, SyncError
from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.sync import devices
from iamedic_desktop.sync.central_files import CHUNK, CentralFiles, open_central_files
from tests.support.web_cleanup import web_startup_cleanup
from tests.support.web_writes import insert_media, insert_study, insert_user

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    yield engine
    engine.dispose()


@pytest.fixture
def web_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "web-media"
    folder.mkdir()
    return folder


def _sample(tmp_path: Path, size: int = 2 * CHUNK + 123) -> tuple[Path, int, str]:
    path = tmp_path / f"sample-{uuid.uuid4().hex}"
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path.write_bytes(data)
    return path, len(data), hashlib.sha256(data).hexdigest()


def _open(engine: Engine, kind: str, media_dir: Path | None) -> CentralFiles:
    upgrade_central(engine, file_storage=kind)
    return open_central_files(Settings(central_media_dir=media_dir), engine.connect)


@pytest.mark.parametrize("kind", ["directory", "database"])
def test_put_is_idempotent_refuses_another_file_and_fetch_is_verified(
    engine: Engine, web_folder: Path, tmp_path: Path, kind: str
) -> None:
    files = _open(engine, kind, web_folder if kind == "directory" else None)
    source, size, sha = _sample(tmp_path)
    other, other_size, other_sha = _sample(tmp_path, 10)
    key = str(uuid.uuid4())

    assert files.exists(key) is False
    files.put(key, source, size, sha)
    files.put(key, source, size, sha)
    with pytest.raises(ConflictError, match="different file"):
        files.put(key, other, other_size, other_sha)
    files.fetch(key, tmp_path / "copy")

    assert files.exists(key) is True
    assert (tmp_path / "copy").read_bytes() == source.read_bytes()
    assert [p.name for p in web_folder.iterdir()] == ([key] if kind == "directory" else [])
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT size, sha256 FROM workstation.files")).all()
        chunks = conn.execute(text("SELECT count(*) FROM workstation.file_chunks")).scalar()
    assert stored == [(size, sha)]
    assert chunks == (3 if kind == "database" else 0)


@pytest.mark.parametrize("kind", ["directory", "database"])
def test_a_corrupted_central_file_is_detected_and_not_kept(
    engine: Engine, web_folder: Path, tmp_path: Path, kind: str
) -> None:
    files = _open(engine, kind, web_folder if kind == "directory" else None)
    source, size, sha = _sample(tmp_path)
    key = str(uuid.uuid4())
    files.put(key, source, size, sha)
    if kind == "directory":
        with (web_folder / key).open("r+b") as handle:
            handle.write(b"\xff\xfe")  # the sample starts with 00 01
    else:
        with engine.begin() as conn:
            conn.execute(text("UPDATE workstation.file_chunks SET data = '\\x0001' WHERE seq = 2"))

    with pytest.raises(SyncError, match="is damaged"):
        files.fetch(key, tmp_path / "copy")

    assert not (tmp_path / "copy").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy")] == []


@pytest.mark.parametrize("kind", ["directory", "database"])
def test_a_local_file_that_is_not_the_announced_one_is_not_stored(
    engine: Engine, web_folder: Path, tmp_path: Path, kind: str
) -> None:
    files = _open(engine, kind, web_folder if kind == "directory" else None)
    source, size, _ = _sample(tmp_path)
    key = str(uuid.uuid4())

    with pytest.raises(StorageError, match="not the one recorded"):
        files.put(key, source, size, "0" * 64)

    assert files.exists(key) is False
    assert list(web_folder.iterdir()) == []
    with pytest.raises(NotFoundError):
        files.fetch(key, tmp_path / "copy")


def test_a_file_the_web_stored_is_checked_against_its_media_size(
    engine: Engine, web_folder: Path, tmp_path: Path
) -> None:
    files = _open(engine, "directory", web_folder)
    (web_folder / "web-key").write_bytes(b"12345")

    files.fetch("web-key", tmp_path / "copy", size=5)
    with pytest.raises(SyncError, match="is damaged"):
        files.fetch("web-key", tmp_path / "other", size=6)

    assert (tmp_path / "copy").read_bytes() == b"12345"


@pytest.mark.parametrize(
    ("kind", "media_dir", "message"),
    [
        ("directory", None, "set IAMEDIC_CENTRAL_MEDIA_DIR to where it is mounted"),
        ("directory", "missing", "is not there"),
        ("database", "web-media", "remove the IAMEDIC_CENTRAL_MEDIA_DIR setting"),
    ],
)
def test_settings_that_disagree_with_the_deployment_are_refused(
    engine: Engine, web_folder: Path, kind: str, media_dir: str | None, message: str
) -> None:
    upgrade_central(engine, file_storage=kind)
    folder = web_folder.parent / media_dir if media_dir else None

    with pytest.raises(SyncError, match=message):
        open_central_files(Settings(central_media_dir=folder), engine.connect)


def test_no_deployment_recorded_is_refused(engine: Engine) -> None:
    upgrade_central(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM workstation.deployment"))

    with pytest.raises(SyncError, match="No file storage is recorded"):
        open_central_files(Settings(), engine.connect)


def test_a_media_row_put_after_its_file_survives_the_webs_cleanup(
    engine: Engine, web_folder: Path, tmp_path: Path
) -> None:
    files = _open(engine, "directory", web_folder)
    source, size, sha = _sample(tmp_path, 100)
    with engine.begin() as conn:
        study = insert_study(conn, insert_user(conn))
    key = str(uuid.uuid4())
    files.put(key, source, size, sha)
    with engine.begin() as conn:
        kept = insert_media(conn, study, file_path=key, file_size=size)
        lost = insert_media(conn, study)  # its file never reached the folder

    deleted = web_startup_cleanup(engine, web_folder)

    with engine.connect() as conn:
        left = conn.execute(text("SELECT id FROM media")).scalars().all()
    assert (deleted, left) == (1, [kept])
    assert lost not in left


def test_a_device_registers_keeps_its_cursor_and_is_seen(engine: Engine) -> None:
    upgrade_central(engine)
    device_id = uuid.uuid4()
    with engine.connect() as conn:
        first = devices.register(conn, device_id, "Reading room 1")
        devices.save_cursor(conn, device_id, "10:12:11")
        again = devices.register(conn, device_id, "Reading room 2")
        seen = devices.heartbeat(conn, device_id)
        with pytest.raises(NotFoundError, match="not registered"):
            devices.heartbeat(conn, uuid.uuid4())

    assert (first.cursor, again.cursor, again.name) == (None, "10:12:11", "Reading room 2")
    assert seen.last_seen_at >= first.last_seen_at
    assert seen.created_at == first.created_at


def test_a_file_put_in_the_web_folder_is_readable_by_the_web(
    engine: Engine, web_folder: Path, tmp_path: Path
) -> None:
    files = _open(engine, "directory", web_folder)
    source, size, sha = _sample(tmp_path, 100)
    key = str(uuid.uuid4())
    files.put(key, source, size, sha)
    mode = (web_folder / key).stat().st_mode & 0o777
    assert mode & 0o044 == 0o044, oct(mode)  # group and others may read (the web's user)
