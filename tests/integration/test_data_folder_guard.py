"""A data folder is refused, untouched, when its media have no database or another store's; a
media row marked failed for a missing file comes back when the file does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.models import Media, UploadStatus
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests.media_samples import make_image


def _filled_store(settings: Settings, sources: Path, count: int = 3) -> list[str]:
    """A store with ``count`` imported images; returns their storage keys."""
    store = open_local_store(settings)
    try:
        create_study(store.uow, store.actor, "Kept")
        paths = [make_image(sources, f"scan_{n}.png", size=(40 + n, 30)) for n in range(count)]
        report = import_paths(store.uow, store.actor, store.media, "Kept", paths, settings=settings)
        assert len(report.imported) == count
        return sorted(m.file_path for m in report.imported)
    finally:
        store.close()


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _move_database_away(settings: Settings, to: Path) -> None:
    to.mkdir()
    for suffix in ("", "-wal", "-shm"):
        db = Path(f"{settings.local_db_path}{suffix}")
        if db.exists():
            os.replace(db, to / db.name)


def test_media_without_their_database_are_refused_and_kept(tmp_path: Path) -> None:
    settings = get_settings()
    keys = _filled_store(settings, tmp_path / "in")
    _move_database_away(settings, tmp_path / "backup")
    media_before = _files(settings.media_dir)

    with pytest.raises(StorageError) as refused:
        open_local_store(settings)

    message = refused.value.message
    assert "3 media files" in message and "iamedic.sqlite3" in message
    assert str(settings.data_dir) in message
    assert not settings.local_db_path.exists(), "no empty store was created in its place"
    assert _files(settings.media_dir) == media_before

    # Putting the database back brings everything back, nothing failed.
    for db in (tmp_path / "backup").iterdir():
        os.replace(db, settings.data_dir / db.name)
    store = open_local_store(settings)
    try:
        with store.uow() as uow:
            rows = uow.session.scalars(select(Media)).all()
        assert sorted(r.file_path for r in rows) == keys
        assert {r.upload_status for r in rows} == {UploadStatus.UPLOADED}
        assert store.media.keys() == keys
    finally:
        store.close()


def test_the_database_of_another_store_is_refused(tmp_path: Path) -> None:
    settings = get_settings()
    _filled_store(settings, tmp_path / "in")
    other = Settings(data_dir=tmp_path / "other", cache_dir=tmp_path / "other_cache")
    _filled_store(other, tmp_path / "in_other", count=1)
    _move_database_away(settings, tmp_path / "backup")
    for suffix in ("", "-wal", "-shm"):
        db = Path(f"{other.local_db_path}{suffix}")
        if db.exists():
            os.replace(db, settings.data_dir / db.name)
    media_before = _files(settings.media_dir)

    with pytest.raises(StorageError) as refused:
        open_local_store(settings)

    assert "another store" in refused.value.message
    assert _files(settings.media_dir) == media_before


def test_a_new_empty_data_folder_starts(tmp_path: Path) -> None:
    settings = get_settings()
    store = open_local_store(settings)
    try:
        assert store.media.keys() == []
        assert settings.local_db_path.exists()
    finally:
        store.close()
    # An existing store without a marker (made by an earlier build) is adopted, not refused.
    marker = next(p for p in settings.data_dir.iterdir() if p.name.endswith("store-id"))
    marker.unlink()
    open_local_store(settings).close()
    assert marker.exists()


def _reopen(settings: Settings) -> LocalStore:
    return open_local_store(settings)


def test_a_failed_media_comes_back_when_its_file_does(tmp_path: Path) -> None:
    settings = get_settings()
    keys = _filled_store(settings, tmp_path / "in", count=2)
    aside = tmp_path / "aside"
    aside.mkdir()
    gone, wrong = keys
    os.replace(settings.media_dir / gone, aside / gone)
    os.replace(settings.media_dir / wrong, aside / wrong)

    store = _reopen(settings)
    try:
        with store.uow() as uow:
            statuses = {m.file_path: m.upload_status for m in uow.session.scalars(select(Media))}
        assert statuses == {gone: UploadStatus.FAILED, wrong: UploadStatus.FAILED}
    finally:
        store.close()

    os.replace(aside / gone, settings.media_dir / gone)  # the very file
    (settings.media_dir / wrong).write_bytes(b"x" * (aside / wrong).stat().st_size)  # same size
    store = _reopen(settings)
    try:
        with store.uow() as uow:
            statuses = {m.file_path: m.upload_status for m in uow.session.scalars(select(Media))}
        assert statuses == {gone: UploadStatus.UPLOADED, wrong: UploadStatus.FAILED}
        assert store.media.exists(wrong), "a file that is not the media's own is not removed"
    finally:
        store.close()
