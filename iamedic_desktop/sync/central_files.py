"""Central file storage: the file of every media row, keyed by ``file_path``, in one of two kinds.

The kind is chosen once per deployment and recorded in ``workstation.deployment``:
``directory`` is the web's media folder, mounted on each workstation at
``central_media_dir`` (the web's start-up cleanup deletes media rows whose file is not there, so
a file is written there, whole, before any row names it); ``database`` keeps files in
``workstation.file_chunks`` for a deployment without the web. ``workstation.files`` records the
size and SHA-256 of each file put by key; a file the web stored itself has no such row and is
checked against the size its media row gives.

Threading: blocking file and database I/O; run on a worker, never on the UI thread. Every file
is streamed in 1 MiB chunks, never held whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.errors import (
    CentralDatabaseError,
    ConflictError,
    NotFoundError,
    StorageError,
    SyncError,
)
from iamedic_desktop.core.migrate import read_file_storage

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

CHUNK = 1024 * 1024


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...
    def flush(self) -> None: ...
    def fileno(self) -> int: ...


ConnectionFactory = Callable[[], Connection]
# Keys are bare uuid4 strings; anything with a separator could leave the folder.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")


def open_central_files(settings: Settings, connect: ConnectionFactory) -> CentralFiles:
    """The deployment's file storage, once the settings are checked against it."""
    kind = _recorded_kind(connect)
    files: CentralFiles
    if kind == "directory" and settings.central_media_dir is not None:
        files = DirectoryFiles(settings, connect, settings.central_media_dir)
    else:
        files = DatabaseFiles(settings, connect)
    files.check_settings()
    return files


class CentralFiles:
    """Put, test and read central files by key; each kind stores the bytes its own way."""

    kind = ""

    def __init__(self, settings: Settings, connect: ConnectionFactory) -> None:
        self._settings = settings
        self._connect = connect

    def check_settings(self) -> None:
        """Refuse (SyncError) when this workstation's settings disagree with the deployment."""
        check_settings(_recorded_kind(self._connect), self._settings.central_media_dir)

    def put(self, key: str, source: Path, size: int, sha256: str) -> None:
        """Store ``source`` under ``key``; the same file already there is success."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        """Whether a complete file is stored under ``key``."""
        raise NotImplementedError

    def open_stream(self, key: str, size: int | None = None) -> Iterator[bytes]:
        """The file's chunks; raises SyncError after the last one if it is damaged."""
        expected = self._expected(_checked(key), size)
        digest, total = hashlib.sha256(), 0
        for chunk in self._chunks(key):
            digest.update(chunk)
            total += len(chunk)
            yield chunk
        if total != expected[0] or expected[1] not in (None, digest.hexdigest()):
            raise SyncError(
                f"The central copy of file {key} is damaged (its size or SHA-256 is not the "
                "one recorded); it was not used."
            )

    def fetch(self, key: str, dest: Path, size: int | None = None) -> None:
        """Copy the file to ``dest`` (temporary file, fsync, rename) once verified."""
        with _atomic_file(dest.parent, dest.name) as (handle, tmp):
            for chunk in self.open_stream(key, size):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp, dest)

    def _chunks(self, key: str) -> Iterator[bytes]:
        raise NotImplementedError

    def _expected(self, key: str, size: int | None) -> tuple[int, str | None]:
        """The recorded size and hash, or the caller's size for a file the web stored."""
        with self._transaction() as conn:
            row = conn.execute(
                text("SELECT size, sha256 FROM workstation.files WHERE file_path = :k"),
                {"k": key},
            ).one_or_none()
        if row is not None:
            return int(row[0]), str(row[1])
        if size is None or not self.exists(key):
            raise NotFoundError(f"The file {key} is not in central storage.")
        return size, None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self._connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as exc:
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise CentralDatabaseError(
                f"Central file storage cannot be used: {cause[0] if cause else exc}"
            ) from exc


class DirectoryFiles(CentralFiles):
    """Files in the web's media folder, written by key before any row names them."""

    kind = "directory"

    def __init__(self, settings: Settings, connect: ConnectionFactory, folder: Path) -> None:
        super().__init__(settings, connect)
        self.folder = folder

    def put(self, key: str, source: Path, size: int, sha256: str) -> None:
        target = self.folder / _checked(key)
        if target.exists():
            _same_or_refuse(key, _digest(target), (size, sha256))
        else:
            with _atomic_file(self.folder, key) as (handle, tmp):
                _copy_verified(source, handle, (size, sha256))
                os.replace(tmp, target)
            _fsync_folder(self.folder)
        with self._transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO workstation.files (file_path, size, sha256) VALUES (:k, :n, :h) "
                    "ON CONFLICT (file_path) DO UPDATE SET size = :n, sha256 = :h"
                ),
                {"k": key, "n": size, "h": sha256},
            )

    def exists(self, key: str) -> bool:
        return (self.folder / _checked(key)).is_file()

    def _chunks(self, key: str) -> Iterator[bytes]:
        try:
            with (self.folder / key).open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
        except FileNotFoundError as exc:
            raise NotFoundError(f"The file {key} is not in the web's media folder.") from exc


class DatabaseFiles(CentralFiles):
    """Files in ``workstation.file_chunks``, each put in one transaction (whole or not at all)."""

    kind = "database"

    def put(self, key: str, source: Path, size: int, sha256: str) -> None:
        with self._transaction() as conn:
            # The row is taken first: a second writer of the key waits here, then finds it.
            inserted = conn.execute(
                text(
                    "INSERT INTO workstation.files (file_path, size, sha256) VALUES (:k, :n, :h) "
                    "ON CONFLICT (file_path) DO NOTHING"
                ),
                {"k": _checked(key), "n": size, "h": sha256},
            ).rowcount
            if not inserted:
                row = conn.execute(
                    text("SELECT size, sha256 FROM workstation.files WHERE file_path = :k"),
                    {"k": key},
                ).one()
                _same_or_refuse(key, (int(row[0]), str(row[1])), (size, sha256))
                return
            _copy_verified(source, _ChunkWriter(conn, key), (size, sha256))

    def exists(self, key: str) -> bool:
        with self._transaction() as conn:
            found = conn.execute(
                text("SELECT 1 FROM workstation.files WHERE file_path = :k"), {"k": _checked(key)}
            )
            return found.scalar() is not None

    def _chunks(self, key: str) -> Iterator[bytes]:
        seq = 0
        while True:
            with self._transaction() as conn:
                data = conn.execute(
                    text(
                        "SELECT data FROM workstation.file_chunks WHERE file_path = :k AND seq = :s"
                    ),
                    {"k": key, "s": seq},
                ).scalar()
            if data is None:
                return
            yield bytes(data)
            seq += 1


class _ChunkWriter:
    """A write-only file object that inserts each chunk as one row."""

    def __init__(self, conn: Connection, key: str) -> None:
        self._conn, self._key, self._seq = conn, key, 0

    def write(self, data: bytes, /) -> None:
        self._conn.execute(
            text("INSERT INTO workstation.file_chunks (file_path, seq, data) VALUES (:k, :s, :d)"),
            {"k": self._key, "s": self._seq, "d": data},
        )
        self._seq += 1

    def flush(self) -> None:
        """Nothing to flush: the transaction commits the chunks."""

    def fileno(self) -> int:
        """No descriptor to fsync: the database makes the commit durable."""
        return -1


def check_settings(kind: str | None, media_dir: Path | None) -> None:
    """Refuse (SyncError, saying why) a file storage this workstation cannot use."""
    if kind is None:
        raise SyncError(
            "No file storage is recorded in the central database yet: run `iamedic central "
            "upgrade --file-storage directory` (or `database`) first."
        )
    if kind == "database":
        if media_dir is not None:
            raise SyncError(
                "This deployment stores files in the central database, not in the web's media "
                "folder; remove the IAMEDIC_CENTRAL_MEDIA_DIR setting."
            )
        return
    if media_dir is None:
        raise SyncError(
            "This deployment stores files in the web's media folder; set "
            "IAMEDIC_CENTRAL_MEDIA_DIR to where it is mounted."
        )
    if not media_dir.is_dir():
        raise SyncError(
            f"The web's media folder {media_dir} (IAMEDIC_CENTRAL_MEDIA_DIR) is not there: "
            "mount it, or correct the setting."
        )
    if not os.access(media_dir, os.W_OK | os.X_OK):
        raise SyncError(
            f"The web's media folder {media_dir} (IAMEDIC_CENTRAL_MEDIA_DIR) is not writable "
            "by this workstation."
        )


def _recorded_kind(connect: ConnectionFactory) -> str | None:
    try:
        with connect() as conn:
            return read_file_storage(conn)
    except SQLAlchemyError as exc:
        raise CentralDatabaseError("The central database cannot be read.") from exc


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise SyncError(f"{key!r} is not a central file key.")
    return key


def _digest(path: Path) -> tuple[int, str]:
    digest, total = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            total += len(chunk)
    return total, digest.hexdigest()


def _same_or_refuse(key: str, stored: tuple[int, str], given: tuple[int, str]) -> None:
    if stored != given:
        raise ConflictError(f"A different file is already stored centrally under {key}.")


def _copy_verified(source: Path, handle: _Sink, expected: tuple[int, str]) -> None:
    """Copy ``source`` in chunks, then check it is the file that was announced."""
    digest, total = hashlib.sha256(), 0
    try:
        with source.open("rb") as reader:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                total += len(chunk)
                handle.write(chunk)
    except OSError as exc:
        raise StorageError(f"The file for {source.name} cannot be read: {exc.strerror}.") from exc
    if (total, digest.hexdigest()) != expected:
        raise StorageError(
            f"The local file {source.name} is not the one recorded (size or SHA-256 differ); "
            "it was not sent."
        )
    handle.flush()
    if (fd := handle.fileno()) >= 0:
        os.fsync(fd)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # read once, at import: os.umask is process-wide


@contextmanager
def _atomic_file(folder: Path, name: str) -> Iterator[tuple[IO[bytes], str]]:
    """A temporary file in ``folder``, removed unless the caller renamed it into place."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        # mkstemp makes it private (0600): the web, another user on the share, must read it.
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
