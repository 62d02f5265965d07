"""The media of the selected study: thumbnails, name, type, length or size, status.

Without a classifier model, a notice under the list says that no AI scores will come and how
they may (``AiState.NO_MODEL``).

Rows come from ``services.study_browser.media_rows`` on the database runner (latest study
wins); thumbnails are made on the workers runner and kept twice: the preview JPEG in the cache
folder (a video's as the web makes it, an image's or still's from the file itself), and the
shrunk picture in memory. Double-click or Enter on a row emits ``media_activated``.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import uuid
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.models.central import MediaType
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.study_browser import NO_MODEL_HINT, AiState, MediaRowDTO
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.services.study_browser import media_rows
from iamedic_desktop.ui.media_list_model import (
    NAME_COLUMN,
    STATUS_COLUMN,
    THUMB_SIZE,
    MediaListModel,
)
from iamedic_desktop.ui.operations import OperationRunner

log = logging.getLogger(__name__)

PREVIEW_FOLDER = "media-previews"
PREVIEW_SIZE = (320, 240)  # the web's preview size; the list shows it shrunk
MEMORY_THUMBNAILS = 500
NO_MODEL_NOTICE = (
    f"{AiState.NO_MODEL.label}: pull the champion models (AI menu) for AI scores; "
    "the web's arrive by sync."
)


def make_thumbnail(path: Path, media_type: MediaType, cache_dir: Path) -> QImage | None:
    """Worker thread: the media's preview JPEG (made once, kept in ``cache_dir``), shrunk.

    None when no picture can be made (a damaged or missing file): the row keeps its
    placeholder; the reason is logged, not shown (the player says it when the media opens).
    """
    file = cache_dir / PREVIEW_FOLDER / f"{path.name}.jpg"  # the name is the storage key
    try:
        if not file.is_file():
            _make_preview(path, media_type, file)
    except (IamedicError, OSError) as exc:
        log.warning("⚠️ No thumbnail for %s: %s", path.name, exc)
        return None
    image = QImage(str(file))
    if image.isNull():
        log.warning("⚠️ The cached preview %s cannot be read", file)
        return None
    return image.scaled(
        THUMB_SIZE,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def _make_preview(path: Path, media_type: MediaType, file: Path) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    if media_type is MediaType.VIDEO:
        from iamedic_desktop.media.preview import video_preview_jpeg

        video_preview_jpeg(path, file)
        return
    from iamedic_desktop.media.open_source import open_frame_source
    from iamedic_desktop.media.thumbnails import frame_thumbnail_jpeg

    source = open_frame_source(path, readahead=0)
    try:
        data = frame_thumbnail_jpeg(source, 0, max_size=PREVIEW_SIZE)
    finally:
        source.close()
    handle, name = tempfile.mkstemp(prefix=".preview-", suffix=".jpg", dir=file.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(name, file)  # never a half-written preview under the real name
    finally:
        Path(name).unlink(missing_ok=True)


class MediaListWidget(QWidget):
    """Lists one study's media; thumbnails made off the UI thread; activation opens a media."""

    media_activated = Signal(object)  # MediaDTO
    media_loaded = Signal(int)  # how many rows, after each (re)load
    thumbnail_ready = Signal(str)  # file_path of a thumbnail now shown

    def __init__(
        self, database: OperationRunner, workers: OperationRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._workers = workers
        self._store: LocalStore | None = None
        self._study_id: uuid.UUID | None = None
        self._generation = 0  # latest wins: rows of a study no longer shown are dropped
        self._memory: OrderedDict[str, QImage] = OrderedDict()

        self.model = MediaListModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setObjectName("mediaList")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows (Ctrl, Shift) for "Predict the selected media"; the current row is open.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)  # the tooltip has it whole
        self.table.setIconSize(THUMB_SIZE)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIZE.height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self._empty = QLabel("", objectName="emptyState", alignment=Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self.no_model_notice = QLabel(NO_MODEL_NOTICE)
        self.no_model_notice.setObjectName("emptyState")
        self.no_model_notice.setWordWrap(True)
        self.no_model_notice.setToolTip(NO_MODEL_HINT)
        self.no_model_notice.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._empty)
        layout.addWidget(self.no_model_notice)
        self._show_empty("Select a study to see its media.")

        self.table.activated.connect(self._activated)
        self.model.thumbnail_wanted.connect(self._make_thumbnail)

    @property
    def study_id(self) -> uuid.UUID | None:
        """The study whose media are listed."""
        return self._study_id

    def set_store(self, store: LocalStore | None) -> None:
        """The open store (set once it is ready; None: signed out)."""
        self._store = store

    def show_study(self, study_id: uuid.UUID | None) -> None:
        """List the media of ``study_id`` (None: list nothing)."""
        if study_id != self._study_id:
            self.model.set_rows([])
        self._study_id = study_id
        self.refresh()

    def refresh(self) -> None:
        """Read the listed study's media again (after an import or an annotation)."""
        self._generation += 1
        if self._study_id is None or self._store is None:
            self.model.set_rows([])
            self.no_model_notice.hide()
            self._show_empty("Select a study to see its media.")
            return
        generation = self._generation
        store = self._store
        job = functools.partial(media_rows, store.uow, store.actor, self._study_id)
        self._database.run(job, on_success=lambda rows: self._rows_arrived(generation, rows))

    def _rows_arrived(self, generation: int, rows: list[MediaRowDTO]) -> None:
        if generation != self._generation:
            return
        selected = self.selected_media()
        scroll = self.table.verticalScrollBar().value()
        self.model.set_rows(rows, self._memory)
        still = self.selected_media()
        if selected is not None and (still is None or still.id != selected.id):
            self.select_media(selected.id)
        self.table.verticalScrollBar().setValue(scroll)  # a row added elsewhere moves nothing
        self.no_model_notice.setVisible(self.model.has_no_model())
        if rows:
            self._empty.hide()
        else:
            self._show_empty("No media yet. Drop files or folders here, or use Import.")
        self.media_loaded.emit(len(rows))

    def selected_media(self) -> MediaDTO | None:
        """The media on the selected row."""
        index = self.table.currentIndex()
        return self.model.media(index.row()) if index.isValid() else None

    def lists(self, media_id: uuid.UUID) -> bool:
        """Whether ``media_id`` is listed."""
        return any(self.model.media(row).id == media_id for row in range(self.model.rowCount()))

    def select_media(self, media_id: uuid.UUID) -> bool:
        """Select the row of ``media_id`` (False when it is not listed)."""
        for row in range(self.model.rowCount()):
            if self.model.media(row).id == media_id:
                self.table.selectRow(row)
                return True
        return False

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.media_activated.emit(self.model.media(index.row()))

    def _make_thumbnail(self, media: MediaDTO) -> None:
        if media.file_path in self._memory or self._store is None:
            return
        store = self._store

        def job() -> QImage | None:
            path = store.media.path(media.file_path)
            return make_thumbnail(path, media.media_type, store.settings.cache_dir)

        self._workers.run(
            job, on_success=lambda image: self._thumbnail_arrived(media.file_path, image)
        )

    def _thumbnail_arrived(self, file_path: str, image: QImage | None) -> None:
        if image is None:
            return
        self._memory[file_path] = image
        while len(self._memory) > MEMORY_THUMBNAILS:
            self._memory.popitem(last=False)
        self.model.set_thumbnail(file_path, image)
        self.thumbnail_ready.emit(file_path)

    def _show_empty(self, text: str) -> None:
        self._empty.setText(text)
        self._empty.show()
