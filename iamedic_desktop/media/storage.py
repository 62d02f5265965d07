"""The local media store: one file per ``file_path`` key, written whole or not at all.

Every file is written to ``<key>.partial`` in the store's folder, flushed to disk, and renamed
into place, with its SHA-256 computed while it streams (a 2 GB video is never held in memory).
A crash leaves at most a ``.partial`` file, which start-up maintenance removes.
Threading: any thread may write different keys at once; nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError, StorageError

PARTIAL_SUFFIX = ".partial"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """A file now complete in the store: its key, exact size and SHA-256 (hex)."""

    key: str
    size: int
    sha256: str


def new_key() -> str:
    """A fresh storage key: a bare uuid4 string, as ``media.file_path`` requires."""
    return str(uuid.uuid4())


def is_key(name: str) -> bool:
    """Whether ``name`` is a storage key (a canonical uuid4 string)."""
    try:
        parsed = uuid.UUID(name)
    except (ValueError, AttributeError, TypeError):
        return False
    return parsed.version == 4 and str(parsed) == name


def _is_own_partial(name: str) -> bool:
    # Our temp files are "<key>[suffix].partial": anything else is not ours to remove.
    return name.endswith(PARTIAL_SUFFIX) and is_key(name[:36])


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaStore:
    """Files keyed by ``file_path`` under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """Where the file of ``key`` lives (it may not exist)."""
        # uuid.UUID(key, version=4) would set the version rather than check it: is_key compares
        # the canonical spelling instead, which also rules out separators and padding.
        if not is_key(key):
            raise InvalidInputError(f"{key!r} is not a media storage key.")
        return self.root / key

    def exists(self, key: str) -> bool:
        """Whether the file of ``key`` is complete in the store."""
        return self.path(key).is_file()

    def copy_in(self, source: Path, key: str | None = None) -> StoredFile:
        """Copy ``source`` into the store under a new (or given) key."""
        try:
            with source.open("rb") as handle:
                return self.write_chunks(iter(lambda: handle.read(CHUNK), b""), key)
        except OSError as exc:
            # The message is logged: it names no file (a name may carry a patient's).
            raise StorageError(f"The file could not be read: {exc.strerror or exc}.") from exc

    def write_bytes(self, data: bytes, key: str | None = None) -> StoredFile:
        """Store ``data`` (a still JPEG, a small PNG) under a new (or given) key."""
        return self.write_chunks([data], key)

    def write_chunks(self, chunks: Iterable[bytes], key: str | None = None) -> StoredFile:
        """Stream ``chunks`` into the store, hashing as they pass."""
        key = key or new_key()
        with self.partial(key) as partial:
            digest = hashlib.sha256()
            size = 0
            with partial.open("wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def adopt(self, produced: Path, key: str | None = None) -> StoredFile:
        """Move a file a tool produced (ffmpeg output, a converted DICOM) into the store.

        ``produced`` should be on the same file system (``scratch_path()``), so the move is a
        rename; it is hashed once before the move.
        """
        key = key or new_key()
        target = self.path(key)
        try:
            size = produced.stat().st_size
            digest = sha256_of(produced)
            _fsync_file(produced)
            os.replace(produced, target)
            _fsync_dir(self.root)
        except OSError as exc:
            produced.unlink(missing_ok=True)
            raise StorageError(_disk_message(exc)) from exc
        return StoredFile(key=key, size=size, sha256=digest)

    def scratch_path(self, suffix: str = "") -> Path:
        """A fresh ``.partial`` path in the store's folder for a tool to write into."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f"{new_key()}{suffix}{PARTIAL_SUFFIX}"

    @contextmanager
    def partial(self, key: str) -> Iterator[Path]:
        """Yield the ``.partial`` path of ``key``; on success fsync and rename it into place."""
        target = self.path(key)
        if target.exists():
            raise StorageError(f"The media store already holds a file under key {key}.")
        self.root.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + PARTIAL_SUFFIX)
        try:
            yield partial
            _fsync_file(partial)
            os.replace(partial, target)
            _fsync_dir(self.root)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StorageError(_disk_message(exc)) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        """Remove the file of ``key`` if present (only an admin purge or a failed import)."""
        self.path(key).unlink(missing_ok=True)

    def move_aside(self, key: str, folder: Path) -> Path:
        """Move the file of ``key`` into ``folder`` (never deleted: a person decides)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / key
        try:
            os.replace(self.path(key), target)
            _fsync_dir(folder)
        except OSError as exc:
            raise StorageError(_disk_message(exc)) from exc
        return target

    def partial_files(self) -> list[Path]:
        """Leftovers of the store's own writes that never finished."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if _is_own_partial(p.name))

    def keys(self) -> list[str]:
        """Every complete file's name (storage keys, and whatever else a person put here)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if not _is_own_partial(p.name))

    def stored_keys(self) -> list[str]:
        """The storage keys of the files in the store."""
        return [name for name in self.keys() if is_key(name)]

    def free_bytes(self) -> int:
        """Free space on the store's file system."""
        self.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self.root).free


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk too.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _disk_message(exc: OSError) -> str:
    if exc.errno == 28:  # ENOSPC
        return "The disk holding the media store is full; nothing was stored. Free some space."
    return f"The media store could not be written: {exc.strerror or exc}."
