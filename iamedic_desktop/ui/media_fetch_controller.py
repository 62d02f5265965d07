"""Fetching the file of a media the window opens while its file is not on this workstation.

A media pulled from the central database arrives without its file. When the window opens one,
this controller fetches the file in an operation (``services/media_fetch.py``: streamed,
verified, recorded), reports the percentage done, and says when the file is here or why it
could not come. One fetch at a time: opening another media cancels the one in progress (what
it had written is dropped; the next open starts again).

Threading: create and call on the UI thread; the fetch runs on the runner given (its own
thread: a large file takes minutes and must not hold up the database or the decoders). The
fetch's progress callback runs on that thread and is forwarded to the UI thread by a queued
signal; every signal of this class is emitted on the UI thread.
"""

from __future__ import annotations

import contextlib
import functools
import uuid

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from iamedic_desktop.core.errors import StorageError, SyncError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.media_fetch import FetchReport
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.ui.operations import OperationRunner, describe_failure


def fetch_file(
    store: LocalStore, media: MediaDTO, forward: ProgressCallback, cancel: CancelToken
) -> FetchReport:
    """Fetch one media's file from the configured central database (the fetch's thread).

    A refused file raises (SyncError with the reason), so every failure takes the runner's one
    notification path.
    """
    from iamedic_desktop.services.media_fetch import central_files, fetch_media

    if not store.settings.central_url:
        raise StorageError(
            "The file of this media is not on this workstation, and no central database is "
            "configured to fetch it from."
        )
    with central_files(store.settings) as files:
        report = fetch_media(
            store.uow,
            store.media,
            files,
            [media.id],
            forward,
            cancel=cancel,
            settings=store.settings,
        )
    if report.refused:
        raise SyncError(report.refused[0].reason)
    return report


class MediaFetchController(QObject):
    """Fetches the file of one opened media at a time; says how far it got and how it ended."""

    progressed = Signal(object, int)  # media id, percent done
    fetched = Signal(object)  # MediaDTO whose file is now on this workstation
    failed = Signal(object, str)  # MediaDTO, why its file could not be fetched
    # Emitted on the fetch's thread by its progress callback; delivered on the UI thread.
    _progress = Signal(object, object)  # media id, Progress

    def __init__(self, runner: OperationRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._media: MediaDTO | None = None
        self._cancel = CancelToken()
        self._percent = -1
        self._progress.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def fetching(self) -> uuid.UUID | None:
        """The media whose file is being fetched, if any."""
        return self._media.id if self._media is not None else None

    def fetch(self, store: LocalStore, media: MediaDTO) -> None:
        """Start fetching the file of ``media``; a fetch of another media is cancelled."""
        if self._media is not None and self._media.id == media.id:
            return  # already on its way
        self.cancel()
        self._media, self._cancel, self._percent = media, CancelToken(), -1
        self.progressed.emit(media.id, 0)
        self._runner.run(
            functools.partial(fetch_file, store, media, self._forwarder(media.id), self._cancel),
            on_success=functools.partial(self._finished, media),
            on_failure=functools.partial(self._failed, media),
        )

    def cancel(self) -> None:
        """Stop the fetch in progress after its current chunk; nothing of it is kept."""
        self._cancel.cancel()
        self._media = None

    def _forwarder(self, media_id: uuid.UUID) -> ProgressCallback:
        signal = self._progress

        def forward(progress: Progress) -> None:  # the fetch's thread
            with contextlib.suppress(RuntimeError):  # the controller is gone (window closed)
                signal.emit(media_id, progress)

        return forward

    def _show_progress(self, media_id: uuid.UUID, progress: Progress) -> None:
        if self.fetching != media_id:
            return
        percent = int(progress.fraction * 100)
        if percent != self._percent:
            self._percent = percent
            self.progressed.emit(media_id, percent)

    def _finished(self, media: MediaDTO, report: FetchReport) -> None:
        if not shiboken6.isValid(self) or self.fetching != media.id:
            return  # cancelled, or another media was opened meanwhile
        self._media = None
        if not report.cancelled:
            self.fetched.emit(media)

    def _failed(self, media: MediaDTO, error: BaseException) -> None:
        if not shiboken6.isValid(self) or self.fetching != media.id:
            return
        self._media = None
        self.failed.emit(media, describe_failure(error))
