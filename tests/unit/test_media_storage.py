"""The media store: whole files or none, exact sizes and hashes, a clear message on a full disk."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.media.storage import MediaStore, sha256_of
from tests.support.small_disk import small_disk


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        part = os.urandom(min(size, total - sent))
        sent += len(part)
        yield part


def test_copy_in_records_exact_size_and_sha256(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks and a ragged end
    source.write_bytes(data)
    store = MediaStore(tmp_path / "media")
    stored = store.copy_in(source)
    assert uuid.UUID(stored.key).version == 4
    assert stored.size == len(data) == store.path(stored.key).stat().st_size
    assert stored.sha256 == hashlib.sha256(data).hexdigest() == sha256_of(store.path(stored.key))
    assert store.keys() == [stored.key]
    assert store.partial_files() == []


def test_adopt_moves_a_produced_file_in_and_hashes_it(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    produced = store.scratch_path(".mp4")
    produced.write_bytes(b"x" * 1000)
    stored = store.adopt(produced)
    assert not produced.exists()
    assert store.path(stored.key).read_bytes() == b"x" * 1000
    assert stored.sha256 == hashlib.sha256(b"x" * 1000).hexdigest()


def test_a_write_that_fails_midway_leaves_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def failing() -> Iterator[bytes]:
        yield b"a" * 1024
        raise OSError(5, "Input/output error")

    with pytest.raises(StorageError, match="could not be written"):
        store.write_chunks(failing())
    assert store.keys() == []
    assert store.partial_files() == []


def test_an_interrupted_write_leaves_only_a_partial_file(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    key = str(uuid.uuid4())
    with store.partial(key) as partial:
        partial.write_bytes(b"half")
        leftovers = store.partial_files()
        assert [p.name for p in leftovers] == [f"{key}.partial"]
        assert not store.exists(key)
    assert store.exists(key)


@pytest.mark.parametrize(
    "key",
    [
        "../escape",
        "abc",
        "",
        "3f2b8c1e 9d4a",
        "b209a3d0-e97a-11f1-a6c0-02fc00000001",  # a uuid1
        "0B6F3F4E-9A55-4C52-8F6E-0D1C2B3A4F5E",  # upper case: not the stored spelling
        "0b6f3f4e9a554c528f6e0d1c2b3a4f5e",  # no hyphens
        " 0b6f3f4e-9a55-4c52-8f6e-0d1c2b3a4f5e",
    ],
)
def test_keys_that_are_not_uuid4_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(InvalidInputError):
        MediaStore(tmp_path / "media").path(key)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system (tmpfs), mounted for the test."""
    with small_disk(tmp_path / "tiny", "64k") as mount:
        yield mount


def test_a_full_disk_is_reported_and_leaves_nothing(tiny_disk: Path, tmp_path: Path) -> None:
    store = MediaStore(tiny_disk / "media")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(512 * 1024))
    with pytest.raises(StorageError, match="disk holding the media store is full"):
        store.copy_in(source)
    assert store.keys() == []
    assert store.partial_files() == []
    with pytest.raises(StorageError, match="full"):
        store.write_chunks(_chunks(300 * 1024))
    assert list((tiny_disk / "media").iterdir()) == []
    small = store.write_bytes(b"fits")  # the store still works once there is room
    assert store.path(small.key).read_bytes() == b"fits"
