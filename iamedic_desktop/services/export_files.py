"""The export files: the filename rule, the web's CSV layouts, ZIPs streamed, written atomically.

CSV: the web's layout exactly (Python's csv module, its default dialect: fields quoted only
when needed, lines ending CRLF); coordinates as Python writes a float (``20.0``), dates
``YYYY-MM-DD HH:MM:SS`` in UTC. Every file goes to a hidden temporary file in the target
folder, is fsynced and renamed into place; a failure or a cancel removes it, so a half-written
export never exists under its name. Media in a ZIP are streamed chunk by chunk, never whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError, StorageError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback
from iamedic_desktop.media.storage import CHUNK, MediaStore
from iamedic_desktop.services.export_query import BoxRow, LabelRow, MediaRef

if TYPE_CHECKING:
    from iamedic_desktop.sync.central_files import CentralFiles

CLASSIFICATION_HEADER = ("filename", "media_type", "usefulness", "annotation_date")
BOX_HEADER = (
    "filename", "media_type", "bb_class", "xmin", "ymin", "width", "height", "annotation_date",
)  # fmt: skip
CSV_MEMBER = "annotations.csv"
OPEN_BOUND = "all"  # what a file name says for an open side of the date range
# The web's table, plus the two aliases it also maps (image/jpg, video/avi).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/avi": ".avi",
    "video/x-msvideo": ".avi",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
}


def export_filename(file_path: str, mime_type: str, display_name: str) -> str:
    """The storage key plus an extension from the MIME type, else the display name's, else .bin."""
    extension = EXTENSIONS.get(mime_type.strip().lower())
    if extension is None:
        extension = os.path.splitext(display_name)[1] or ".bin"
    return f"{file_path}{extension}"


def media_filename(media: MediaRef) -> str:
    """``export_filename`` of one media."""
    return export_filename(media.file_path, media.mime_type, media.filename)


def annotation_date(moment: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def file_name(prefix: str, start: dt.date | None, end: dt.date | None, now: dt.datetime,
              suffix: str) -> str:  # fmt: skip
    """``<prefix>_<start>_<end>_<YYYYmmdd_HHMMSS><suffix>``; an open bound reads ``all``."""
    low = start.isoformat() if start is not None else OPEN_BOUND
    high = end.isoformat() if end is not None else OPEN_BOUND
    return f"{prefix}_{low}_{high}_{now.strftime('%Y%m%d_%H%M%S')}{suffix}"


def classification_cells(rows: Iterable[LabelRow]) -> Iterator[list[object]]:
    """The classification CSV's data rows."""
    for row in rows:
        yield [media_filename(row.media), row.media.media_type, int(row.usefulness),
               annotation_date(row.created_at)]  # fmt: skip


def box_cells(rows: Iterable[BoxRow]) -> Iterator[list[object]]:
    """The box CSV's data rows (pixels of the stored image, as the web writes them)."""
    for row in rows:
        yield [media_filename(row.media), row.media.media_type, row.bb_class,
               float(row.x_min), float(row.y_min), float(row.width), float(row.height),
               annotation_date(row.created_at)]  # fmt: skip


def write_csv(handle: IO[bytes], header: Sequence[str], cells: Iterable[list[object]]) -> int:
    """Write the CSV (UTF-8) to a binary handle; returns the number of data rows."""
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(header)
        count = 0
        for row in cells:
            writer.writerow(row)
            count += 1
        text.flush()
    finally:
        text.detach()  # the handle stays open for its owner
    return count


class FileSource(Protocol):
    """Where the media's files are read from: this workstation's store or central storage."""

    def chunks(self, media: MediaRef) -> Iterator[bytes]:
        """The file's bytes in chunks; StorageError naming the media when it is not there."""
        ...


def missing_file(media: MediaRef, where: str, advice: str) -> StorageError:
    """The error of a media whose file cannot be read (named by its display name)."""
    return StorageError(
        f"The file of '{media.filename}' is not {where}, so nothing was exported: {advice}"
    )


_FETCH_FIRST = "fetch it first (iamedic media fetch), or export without the media."
_PUSH_FIRST = (
    "the workstation that imported it has not sent it yet; sync there, or export without the media."
)


class LocalFiles:
    """Files of this workstation's media store."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    def chunks(self, media: MediaRef) -> Iterator[bytes]:
        """Read the stored file in 1 MiB chunks."""
        try:
            handle = self._store.path(media.file_path).open("rb")
        except (OSError, InvalidInputError) as exc:
            raise missing_file(media, "on this workstation", _FETCH_FIRST) from exc
        with handle:
            while chunk := handle.read(CHUNK):
                yield chunk


class CentralFileSource:
    """Files of the central file storage, checked (size, SHA-256) as they stream."""

    def __init__(self, files: CentralFiles) -> None:
        self._files = files

    def chunks(self, media: MediaRef) -> Iterator[bytes]:
        """Stream the central copy; a missing one is named by the media's display name."""
        try:
            yield from self._files.open_stream(media.file_path, media.file_size)
        except NotFoundError as exc:
            raise missing_file(media, "in central storage", _PUSH_FIRST) from exc


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # read once, at import: os.umask is process-wide


@contextmanager
def atomic_output(folder: Path, name: str) -> Iterator[IO[bytes]]:
    """A binary handle on a temporary file in ``folder``, renamed to ``name`` on success."""
    if not folder.is_dir():
        raise StorageError(f"The folder {folder} does not exist: choose another one.")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    except OSError as exc:
        raise StorageError(f"The folder {folder} cannot be written: {exc.strerror}.") from exc
    try:
        # mkstemp makes it private (0600); an export is a file like any other the user makes.
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / name)
        _fsync_folder(folder)
    except OSError as exc:
        raise StorageError(f"The export could not be written: {exc.strerror or exc}.") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def add_text(archive: zipfile.ZipFile, name: str, data: str) -> None:
    """A small text member (a CSV, a label file, a YAML), compressed."""
    archive.writestr(name, data.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)


def add_media(
    archive: zipfile.ZipFile,
    members: Sequence[tuple[str, MediaRef]],
    files: FileSource,
    *,
    progress: ProgressCallback,
    cancel: CancelToken,
    done: int = 0,
    total: int | None = None,
) -> None:
    """Stream each media's file into ``archive`` under its member name (stored: already packed)."""
    total = len(members) if total is None else total
    for index, (member, media) in enumerate(members):
        cancel.raise_if_cancelled("The export")
        progress(Progress(done + index, total, member))
        info = zipfile.ZipInfo(member, date_time=_zip_time())
        info.compress_type = zipfile.ZIP_STORED
        with archive.open(info, "w", force_zip64=True) as out:
            for chunk in files.chunks(media):
                cancel.raise_if_cancelled("The export")
                out.write(chunk)
    progress(Progress(done + len(members), total, ""))


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = dt.datetime.now()
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)
