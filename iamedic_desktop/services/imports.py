"""Importing files and folders into a study: images, videos and DICOM, judged by content.

Per file: it must be a readable, non-empty regular file; a child process sniffs and probes it
under a time and memory limit (``media/sandbox.py``); the original is hashed (streamed) and a
file whose content the study already holds is reported as a duplicate; a DICOM file is
de-identified and converted, a video the browser cannot play is remuxed or transcoded (in the
child too); the result is stored in the media store (temp file, fsync, rename), and only then
are its ``media`` and ``media_files`` rows written, in one transaction
(``services/import_records.py``, which also keeps the duplicate rule against a concurrent
import). A kill between the two leaves a file no row names, which start-up maintenance moves
aside: never a row without its file. A file that fails at any step (a full disk included)
leaves nothing behind and the import goes on with the next. Logs name a file by its stored key
or its place in the import, never by its name (it may carry a patient's).

Which files a folder yields is ``services/import_walk.py``'s business.
Threading: runs on the calling thread (a worker, never the UI thread); cancel is checked
between files and during a conversion; what was imported before stays imported.
"""

from __future__ import annotations

import logging
import os
import stat
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from iamedic_desktop.core.errors import IamedicError, InvalidInputError
from iamedic_desktop.core.progress import (
    CancelledError,
    CancelToken,
    Progress,
    ProgressCallback,
    no_progress,
)
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.image_probe import MAX_IMAGE_PIXELS
from iamedic_desktop.media.inspect_worker import Inspection, inspect_file, make_stored_form
from iamedic_desktop.media.names import safe_display_name
from iamedic_desktop.media.sandbox import IsolatedWorker
from iamedic_desktop.media.storage import MediaStore, sha256_of
from iamedic_desktop.models import Media, Study
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.imports import Duplicate, ImportReport, Refusal
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.import_records import StoredForm, find_duplicate, record_import
from iamedic_desktop.services.import_walk import collect_files
from iamedic_desktop.services.maintenance import media_write_lock
from iamedic_desktop.services.media_records import (
    media_dto,
)
from iamedic_desktop.services.permissions import find_study_for_actor, require_doctor_role
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

GIB = 1024**3
WEB_FILE_LIMIT = 1 * GIB  # the web refuses larger files
WEB_DOCTOR_LIMIT = 2 * GIB  # and more active media per doctor


# --- importing one file -----------------------------------------------------------------------


def redacted(message: str, path: Path) -> str:
    """``message`` with the file's path and name blanked, fit for the log (a name may carry a
    patient's)."""
    for named in (str(path), path.name, safe_display_name(path.name), path.stem):
        if len(named) >= 3:  # a one- or two-letter stem would blank ordinary words
            message = message.replace(named, "<file>")
    return message


def conversion_timeout(settings: Settings, inspection: Inspection) -> float:
    """Time allowed to convert one file: twice the probe limit plus 5 s per second of video.

    Generous on purpose (a 4K transcode on two cores runs near real time): the limit is there
    for a decoder that never ends, not for a slow machine.
    """
    seconds = 0.0
    if inspection.probe is not None:
        seconds = float(inspection.probe.get("duration") or 0.0)
    elif inspection.frame_count and inspection.frame_count > 1:
        seconds = inspection.frame_count / max(inspection.fps or 1.0, 1.0)
    return 2 * settings.probe_timeout_seconds + 5 * seconds


@dataclass
class _Run:
    """The growing outcome of one import."""

    study: Study
    imported: list[MediaDTO] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _load_study(uow_factory: UnitOfWorkFactory, actor: Actor, study_ref: str) -> Study:
    with uow_factory() as uow:
        require_doctor_role(uow.session, actor)
        return find_study_for_actor(uow.session, actor, study_ref)


def _check_readable(path: Path) -> int:
    """The size of a regular, readable, non-empty file; refuse anything else."""
    try:
        # O_NONBLOCK: should the file have been swapped for a named pipe since it was listed,
        # opening it must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except PermissionError as exc:
        raise InvalidInputError("The file may not be read (permission denied).") from exc
    except OSError as exc:
        raise InvalidInputError(f"The file cannot be read: {exc.strerror or exc}.") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError("This is not a regular file.")
        os.read(fd, 1)
    except OSError as exc:
        raise InvalidInputError(f"The file cannot be read: {exc.strerror or exc}.") from exc
    finally:
        os.close(fd)
    if info.st_size == 0:
        raise InvalidInputError("The file is empty (0 bytes); empty files cannot be imported.")
    return info.st_size


def _store(
    worker: IsolatedWorker,
    media_store: MediaStore,
    path: Path,
    inspection: Inspection,
    source_sha256: str,
    *,
    settings: Settings,
    cancel: CancelToken | None,
) -> StoredForm:
    """Put the stored form of ``path`` into the media store (the original when it will do)."""
    from iamedic_desktop.media.probe import VideoProbe

    name = safe_display_name(path.name)
    needs_form = inspection.kind == "dicom" or inspection.plan in ("remux", "transcode")
    if needs_form:
        scratch = media_store.scratch_path()
        try:
            form = make_stored_form(
                worker,
                path,
                inspection,
                scratch,
                name=path.name,
                timeout=conversion_timeout(settings, inspection),
                cancel=cancel,
            )
            if form.converted:
                stored = media_store.adopt(scratch)
                probe = VideoProbe(**form.probe).to_json() if form.probe else None
                log.info("✅ Converted for storage as %s (%s)", stored.key, form.mime_type)
                return StoredForm(
                    stored,
                    form.kind,
                    form.mime_type,
                    form.display_name or name,
                    probe,
                    form.dicom_json,
                )
        finally:
            scratch.unlink(missing_ok=True)
    stored = media_store.copy_in(path)
    if stored.sha256 != source_sha256:
        media_store.delete(stored.key)
        raise InvalidInputError("The file changed while it was being imported; try again.")
    video = inspection.video_probe()
    probe_json = video.to_json() if video is not None else None
    return StoredForm(stored, inspection.kind, inspection.mime_type, name, probe_json, None)


def _import_one(
    run: _Run,
    path: Path,
    worker: IsolatedWorker,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    *,
    settings: Settings,
    cancel: CancelToken | None,
) -> None:
    _check_readable(path)
    inspection = inspect_file(
        worker,
        path,
        timeout=settings.probe_timeout_seconds,
        max_image_pixels=MAX_IMAGE_PIXELS,
        cancel=cancel,
    )
    source_sha256 = sha256_of(path)
    with uow_factory() as uow:
        existing = find_duplicate(uow.session, run.study.id, source_sha256)
        if existing is not None:
            run.duplicates.append(Duplicate(path=str(path), existing=media_dto(existing)))
            return
    stored = _store(
        worker, media_store, path, inspection, source_sha256, settings=settings, cancel=cancel
    )
    try:
        recorded = record_import(uow_factory, actor, run.study.id, stored, source_sha256)
    except BaseException:
        media_store.delete(stored.file.key)  # file first, row after: undo the file
        raise
    if isinstance(recorded, Media):
        media_store.delete(stored.file.key)
        run.duplicates.append(Duplicate(path=str(path), existing=media_dto(recorded)))
        return
    run.imported.append(recorded)
    if recorded.file_size > WEB_FILE_LIMIT:
        run.warnings.append(
            f"'{recorded.filename}' is {recorded.file_size / GIB:.2f} GiB, over the web's "
            "1 GiB limit per file: it is kept here but will not sync."
        )


def _doctor_total(uow_factory: UnitOfWorkFactory, doctor_id: uuid.UUID) -> int:
    with uow_factory() as uow:
        total = uow.session.scalar(
            select(func.coalesce(func.sum(Media.file_size), 0))
            .join(Study, Study.id == Media.study_id)
            .where(Study.doctor_id == doctor_id, Study.is_active.is_(True))
            .where(Media.is_active.is_(True))
        )
    return int(total or 0)


def inspect_path(path: Path, *, settings: Settings) -> Inspection:
    """What an import would see in the file ``path``, read in a child process; nothing stored."""
    if path.is_dir():
        raise InvalidInputError(f"'{path}' is a folder; probe one file at a time.")
    files, refused, _ = collect_files([path])
    if refused:
        raise InvalidInputError(f"'{path}': {refused[0].reason}")
    _check_readable(files[0])
    with IsolatedWorker() as worker:
        try:
            return inspect_file(
                worker,
                files[0],
                timeout=settings.probe_timeout_seconds,
                max_image_pixels=MAX_IMAGE_PIXELS,
            )
        except InvalidInputError as exc:
            raise InvalidInputError(f"'{path}' would be refused: {exc.message}") from exc


def import_paths(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    study_ref: str,
    paths: Sequence[Path],
    *,
    settings: Settings,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Import files and folders into a study; every path is imported, a duplicate or refused."""
    run = _Run(study=_load_study(uow_factory, actor, study_ref))
    files, refused, skipped = collect_files(paths)
    run.refused.extend(refused)
    total = len(files)
    not_reached: list[str] = []
    log.info("🚀 Importing %d file(s) into study %s", total, run.study.id)
    with media_write_lock(media_store), IsolatedWorker() as worker:
        for done, path in enumerate(files):
            if cancel is not None and cancel.cancelled:
                not_reached = [str(p) for p in files[done:]]
                break
            progress(Progress(done, total, safe_display_name(path.name)))
            try:
                _import_one(
                    run,
                    path,
                    worker,
                    uow_factory,
                    actor,
                    media_store,
                    settings=settings,
                    cancel=cancel,
                )
            except CancelledError:
                not_reached = [str(p) for p in files[done:]]
                break
            except IamedicError as exc:
                log.info(
                    "⚠️ Not imported: file %d of %d: %s",
                    done + 1,
                    total,
                    redacted(exc.message, path),
                )
                run.refused.append(Refusal(path=str(path), reason=exc.message))
    if run.imported and _doctor_total(uow_factory, run.study.doctor_id) > WEB_DOCTOR_LIMIT:
        run.warnings.append(
            "Your active media now exceed the web's 2 GiB per doctor: what is over the "
            "limit will not sync."
        )
    progress(Progress(total, total, "Import finished"))
    log.info(
        "✅ Import into study %s: %d imported, %d duplicate(s), %d refused",
        run.study.id,
        len(run.imported),
        len(run.duplicates),
        len(run.refused),
    )
    return ImportReport(
        study_id=run.study.id,
        study_alias=run.study.alias,
        imported=run.imported,
        duplicates=run.duplicates,
        refused=run.refused,
        skipped=skipped,
        warnings=run.warnings,
        cancelled=bool(not_reached),
        not_reached=not_reached,
    )
