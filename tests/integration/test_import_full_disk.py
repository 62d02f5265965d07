"""A full disk under the data folder, on a real small tmpfs: the file that cannot be stored (or
recorded) is refused with a clear reason, what was stored before stays, and the import ends
with its report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from iamedic_desktop.core.settings import get_settings, reset_settings_cache
from iamedic_desktop.media.storage import sha256_of
from iamedic_desktop.models import Media
from iamedic_desktop.schemas.imports import ImportReport
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests.support.small_disk import PAGE, fill, free_bytes
from tests.support.small_disk import small_disk as mount_small_disk


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 6 MiB tmpfs holding the data folder; unmounted at teardown."""
    with mount_small_disk(tmp_path / "disk", "6m") as mount_point:
        monkeypatch.setenv("IAMEDIC_DATA_DIR", str(mount_point / "data"))
        reset_settings_cache()
        try:
            yield mount_point
        finally:
            reset_settings_cache()


@pytest.fixture
def store(small_disk: Path) -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    create_study(opened.uow, opened.actor, "Full")
    yield opened
    opened.close()


def _noise_png(folder: Path, name: str, side: int, seed: int) -> Path:
    """A PNG that does not compress: about 3 * side**2 bytes."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    path = folder / name
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path)
    return path


def _rounded(size: int) -> int:
    return -(-size // PAGE) * PAGE


def _filled(disk: Path, leave: int) -> Path:
    filler = fill(disk, leave)
    assert abs(free_bytes(disk) - leave) <= PAGE
    return filler


def _checkpoint(store: LocalStore) -> None:
    # An empty WAL: the next commit must take new blocks of the disk.
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _import(store: LocalStore, *paths: Path) -> ImportReport:
    return import_paths(
        store.uow, store.actor, store.media, "Full", list(paths), settings=store.settings
    )


def _rows(store: LocalStore) -> list[str]:
    with store.uow() as uow:
        return sorted(uow.session.scalars(select(Media.file_path)))


def test_a_full_disk_at_the_commit_refuses_that_file_and_keeps_the_others(
    store: LocalStore, small_disk: Path, tmp_path: Path
) -> None:
    sources = tmp_path / "in"
    # What one recorded file costs on this disk: its stored copy plus the WAL it adds.
    _checkpoint(store)
    before = free_bytes(small_disk)
    probe = _noise_png(sources, "probe.png", 40, seed=0)
    assert len(_import(store, probe).imported) == 1
    record_cost = before - free_bytes(small_disk) - _rounded(probe.stat().st_size)
    assert record_cost > 2 * PAGE
    first = _noise_png(sources, "first.png", 40, seed=1)
    big = _noise_png(sources, "second.png", 400, seed=2)
    _checkpoint(store)
    # Room for the first file and its record, and for the second file, not for its record.
    _filled(
        small_disk,
        _rounded(first.stat().st_size) + record_cost + _rounded(big.stat().st_size) + PAGE,
    )

    report = _import(store, first, big)

    assert [m.filename for m in report.imported] == ["first.png"]
    assert [r.path for r in report.refused] == [str(big)]
    reason = report.refused[0].reason
    assert "disk holding the local store is full" in reason, reason  # the commit, not the file
    assert report.duplicates == [] and not report.cancelled
    kept = report.imported[0]
    assert sha256_of(store.media.path(kept.file_path)) == sha256_of(first)
    assert store.media.partial_files() == []
    assert sorted(store.media.stored_keys()) == _rows(store)  # the refused file is not left
    # With room again, the refused file comes in.
    (small_disk / "filler").unlink()
    again = _import(store, first, big)
    assert [m.filename for m in again.imported] == ["second.png"]
    assert len(again.duplicates) == 1


def test_a_full_disk_while_the_file_is_written_refuses_it(
    store: LocalStore, small_disk: Path, tmp_path: Path
) -> None:
    sources = tmp_path / "in"
    small = _noise_png(sources, "small.png", 40, seed=3)
    big = _noise_png(sources, "big.png", 400, seed=4)
    keys_before = store.media.stored_keys()
    _filled(small_disk, 256 * 1024)  # room for the small file and its record, not the big one

    report = _import(store, big, small)

    assert [r.path for r in report.refused] == [str(big)]
    assert "disk holding the media store is full" in report.refused[0].reason
    assert [m.filename for m in report.imported] == ["small.png"]
    assert store.media.partial_files() == []
    assert sorted(store.media.stored_keys()) == sorted([*keys_before, report.imported[0].file_path])
    assert not any(name.endswith(".partial") for name in os.listdir(store.media.root))
