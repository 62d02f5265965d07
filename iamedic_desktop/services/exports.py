"""Exporting the clinicians' annotations: the web's CSV and ZIP formats, COCO and YOLO.

Who exports what, and from where:
- an admin on a reachable central database (``services/admin_target.py``) exports every
  doctor's work from it, media files from central storage;
- otherwise the local store: an admin there exports every study it holds, a doctor who is not
  an admin their own studies; the media files come from this workstation's media store;
- anyone else is refused (PermissionDeniedError) before any file is opened.
An account the central database does not know or does not make an admin (or the local-mode
user, who never acts there) falls back to the local store's rules.

A media file missing from its store is an error naming the media (nothing is written), not a
skipped member: an export that silently lacks files would train or audit on less than it says.
Threading: blocking database and file I/O; run on a worker (the window's operations), never on
the UI thread. Progress is reported per media file; the CancelToken is polled between chunks.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from iamedic_desktop.core.errors import InvalidInputError, PermissionDeniedError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import Role
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.exports import (
    FORMATS_OF,
    ExportFilters,
    ExportFormat,
    ExportKind,
    ExportResult,
)
from iamedic_desktop.services import export_files as files_
from iamedic_desktop.services import export_query as query
from iamedic_desktop.services import export_training as training_
from iamedic_desktop.services.admin_target import THIS_WORKSTATION, admin_target
from iamedic_desktop.services.permissions import (
    require_active_user,
    require_admin_role,
    require_doctor_role,
    roles_of,
)
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

_PREFIX: dict[ExportKind, str] = {
    "classification": "classification_annotations",
    "boxes": "bounding_box_annotations",
    "coco": "coco_annotations",
    "yolo": "yolo_dataset",
}


@dataclass(frozen=True)
class _Scope:
    """Where the rows and files come from, and whose studies (None: everyone's)."""

    uow: UnitOfWorkFactory
    owner: uuid.UUID | None
    source: str
    is_central: bool


def make_filters(
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    include_deleted: bool = False,
    include_hidden: bool = False,
) -> ExportFilters:
    """ExportFilters, or InvalidInputError saying what is wrong with them."""
    try:
        return ExportFilters(
            start=start, end=end, include_deleted=include_deleted, include_hidden=include_hidden
        )
    except ValidationError as exc:
        raise InvalidInputError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


def export_annotations(
    settings: Settings,
    local_uow: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    *,
    kind: ExportKind,
    folder: Path,
    fmt: ExportFormat | None = None,
    filters: ExportFilters | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Write one export into ``folder`` (atomically) and say what it holds and where from."""
    if kind not in FORMATS_OF:
        raise InvalidInputError(
            f"'{kind}' is not an export: choose one of {', '.join(FORMATS_OF)}."
        )
    fmt = fmt or FORMATS_OF[kind][0]
    if fmt not in FORMATS_OF[kind]:
        raise InvalidInputError(
            f"A {kind} export is written as {' or '.join(FORMATS_OF[kind])}, not {fmt}."
        )
    filters = filters or ExportFilters()
    cancel = cancel or CancelToken()
    if not folder.is_dir():
        raise InvalidInputError(f"The folder {folder} does not exist: choose another one.")
    with _scope(settings, local_uow, actor) as scope:
        log.info("🚀 Export of %s (%s) from %s started", kind, fmt, scope.source)
        writer = _Writer(settings, media_store, scope, filters, progress, cancel)
        now = dt.datetime.now()  # the local clock: the file name is for the person exporting
        name = files_.file_name(_PREFIX[kind], filters.start, filters.end, now, f".{fmt}")
        result = writer.write(kind, fmt, folder, name, now)
    log.info("✅ Export written: %s (%d rows, %d media)", name, result.rows, result.media_count)
    return result


@contextmanager
def _scope(settings: Settings, local_uow: UnitOfWorkFactory, actor: Actor) -> Iterator[_Scope]:
    with ExitStack() as stack:
        where = THIS_WORKSTATION
        if settings.central_url:
            try:
                target = stack.enter_context(admin_target(settings, local_uow, actor))
            except PermissionDeniedError:
                target = None  # not acting centrally (local-mode user, unknown account)
            if target is not None and target.is_central and _is_admin(target.uow, target.actor):
                yield _Scope(target.uow, None, target.where, is_central=True)
                return
            if target is not None and not target.is_central:
                where = target.where  # "this workstation (offline: ...)"
        yield _Scope(local_uow, _local_owner(local_uow, actor), where, is_central=False)


def _is_admin(uow_factory: UnitOfWorkFactory, actor: Actor) -> bool:
    with uow_factory() as uow:
        try:
            require_admin_role(uow.session, actor)
        except PermissionDeniedError:
            return False
    return True


def _local_owner(uow_factory: UnitOfWorkFactory, actor: Actor) -> uuid.UUID | None:
    """None for an admin (every study here), the doctor's id, or refused."""
    with uow_factory() as uow:
        user = require_active_user(uow.session, actor)
        if Role.ADMIN.value in roles_of(uow.session, user.id):
            return None
        try:
            require_doctor_role(uow.session, actor)
        except PermissionDeniedError as exc:
            raise PermissionDeniedError(
                "Exporting annotations needs the admin role, or doctor access for your own "
                f"studies: {exc.message.removeprefix('This needs doctor access: ')}"
            ) from None
        return user.id


class _Writer:
    """One export's reads and writes, at its scope."""

    def __init__(
        self,
        settings: Settings,
        media_store: MediaStore,
        scope: _Scope,
        filters: ExportFilters,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> None:
        self.settings, self.media_store, self.scope = settings, media_store, scope
        self.filters, self.progress, self.cancel = filters, progress, cancel
        self._source: files_.FileSource | None = None

    def write(
        self, kind: ExportKind, fmt: ExportFormat, folder: Path, name: str, now: dt.datetime
    ) -> ExportResult:
        if kind in ("classification", "boxes"):
            rows, media, notes = self._csv_kind(kind, fmt, folder, name)
        else:
            rows, media, notes = self._training(kind, fmt, folder, name, now)
        return ExportResult(
            path=folder.resolve() / name, kind=kind, format=fmt, rows=rows, media_count=media,
            source=self.scope.source, notes=notes,
        )  # fmt: skip

    def chunks(self, media: query.MediaRef) -> Iterator[bytes]:
        """The file of ``media`` from the scope's store, opened on first use (FileSource)."""
        if self._source is None:
            if not self.scope.is_central:
                self._source = files_.LocalFiles(self.media_store)
            else:
                from iamedic_desktop.sync.central_files import open_central_files

                connect = self.scope.uow.engine.connect
                self._source = files_.CentralFileSource(open_central_files(self.settings, connect))
        return self._source.chunks(media)

    def _csv_kind(
        self, kind: ExportKind, fmt: ExportFormat, folder: Path, name: str
    ) -> tuple[int, int, list[str]]:
        with self.scope.uow() as uow:
            if kind == "classification":
                labels = query.label_rows(uow.session, self.filters, self.scope.owner)
                header: tuple[str, ...] = files_.CLASSIFICATION_HEADER
                cells = files_.classification_cells(labels)
                media = query.distinct_media(labels)
            else:
                boxes = query.box_rows(uow.session, self.filters, self.scope.owner)
                header, cells = files_.BOX_HEADER, files_.box_cells(boxes)
                media = query.distinct_media(boxes)
        with files_.atomic_output(folder, name) as handle:
            if fmt == "csv":
                rows = files_.write_csv(handle, header, cells)
            else:
                with _zip(handle) as archive:
                    with archive.open(_member(files_.CSV_MEMBER), "w") as out:
                        rows = files_.write_csv(out, header, cells)
                    members = [(f"media/{files_.media_filename(m)}", m) for m in media]
                    files_.add_media(archive, members, self, progress=self.progress,
                                     cancel=self.cancel)  # fmt: skip
            self.cancel.raise_if_cancelled("The export")
        return rows, len(media), []

    def _training(
        self, kind: ExportKind, fmt: ExportFormat, folder: Path, name: str, now: dt.datetime
    ) -> tuple[int, int, list[str]]:
        with self.scope.uow() as uow:
            boxes = query.box_rows(uow.session, self.filters, self.scope.owner)
            labels = query.label_rows(uow.session, self.filters, self.scope.owner)
            images, videos = training_.gather(boxes, labels if kind == "yolo" else [])
            keys = [image.media.file_path for image in images if image.media.frame_size is None]
            probed = {} if self.scope.is_central else query.probed_sizes(uow.session, keys)
        self.progress(Progress(0, len(images) + 1, "Reading picture sizes"))
        training_.size_images(images, probed, self)
        training = training_.finish(images, videos)
        with files_.atomic_output(folder, name) as handle:
            if fmt == "json":
                handle.write(training_.coco_json(training, now).encode("utf-8"))
            else:
                with _zip(handle) as archive:
                    if kind == "coco":
                        files_.add_text(
                            archive, "annotations.json", training_.coco_json(training, now)
                        )
                    else:
                        training_.add_yolo_texts(archive, training)
                    members = [(f"images/{image.member}", image.media) for image in training.images]
                    files_.add_media(archive, members, self, progress=self.progress,
                                     cancel=self.cancel)  # fmt: skip
            self.cancel.raise_if_cancelled("The export")
        return training.box_count, len(training.images), training.notes


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


@contextmanager
def _zip(handle: IO[bytes]) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
        yield archive
