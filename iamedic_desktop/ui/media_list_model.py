"""The media of one study as table rows: thumbnail beside the name (and under it the type and
length or size), then the status.

Two columns, so that in the study browser's narrow dock the name keeps most of the width: a
separate type and length column left the name no room beside its thumbnail.

A study holds tens of media, so the rows (``MediaRowDTO``) come in one answer; thumbnails come
one by one: the first time a row's picture is painted the model asks for it
(``thumbnail_wanted``) and its owner makes it off the UI thread and hands it back with
``set_thumbnail``. The model does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage

from iamedic_desktop.models.central import MediaType, UploadStatus
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.study_browser import (
    NO_MODEL_HINT,
    AiState,
    AnnotationStatus,
    MediaRowDTO,
)
from iamedic_desktop.ui import theme

Index = QModelIndex | QPersistentModelIndex

THUMB_SIZE = QSize(80, 60)
HEADERS = ("Name", "Status")
NAME_COLUMN, STATUS_COLUMN = 0, 1
TYPE_NAMES = {MediaType.VIDEO: "Video", MediaType.IMAGE: "Image", MediaType.FRAME: "Still"}
_STATUS_COLOURS = {AnnotationStatus.ANNOTATED: theme.OK, AnnotationStatus.AI_PENDING: theme.WARNING}


def format_duration(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss`` from an hour on)."""
    if seconds >= 3600:
        hours, rest = divmod(round(seconds), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    tenths = round(seconds * 10)  # rounded first: 59.96 s is 1:00.0, never 0:60.0
    minutes, rest = divmod(tenths, 600)
    return f"{minutes}:{rest / 10:04.1f}"


def format_size(size: int) -> str:
    """Bytes as a person reads them (KB, MB, GB; powers of 1024)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def length_text(row: MediaRowDTO) -> str:
    """A video's duration, or the size of an image or still."""
    if row.media.media_type is MediaType.VIDEO and row.duration:
        return format_duration(row.duration)
    return format_size(row.media.file_size)


def name_text(row: MediaRowDTO) -> str:
    """The readable name, and under it the type and the length or size."""
    kind = TYPE_NAMES[row.media.media_type]
    return f"{row.media.readable_name}\n{kind} · {length_text(row)}"


def status_text(row: MediaRowDTO) -> str:
    """The row's status; a file that is missing or still processing says so first."""
    if row.media.upload_status is UploadStatus.FAILED:
        return "File missing"
    if row.media.upload_status is UploadStatus.PROCESSING:
        return "Processing"
    return row.status.label


class MediaListModel(QAbstractTableModel):
    """Rows of one study's media, with thumbnails asked for as they are painted."""

    thumbnail_wanted = Signal(object)  # MediaDTO

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[MediaRowDTO] = []
        self._thumbs: dict[str, QImage] = {}  # by file_path
        self._asked: set[str] = set()
        self._placeholder = QImage(THUMB_SIZE, QImage.Format.Format_RGB32)
        self._placeholder.fill(QColor(theme.RAISED))

    def set_rows(
        self, rows: Sequence[MediaRowDTO], known: Mapping[str, QImage] | None = None
    ) -> None:
        """Show a (new or refreshed) listing; thumbnails already made (``known``) stay.

        The same media in the same order (a refresh after an edit) only repaints the rows that
        differ: the view keeps its selection and scroll position, and nothing blinks.
        """
        rows = list(rows)
        same = [r.media.id for r in rows] == [r.media.id for r in self._rows]
        if not same:
            self.beginResetModel()
        pairs = zip(self._rows, rows, strict=True) if same else ()
        differ = [n for n, (old, new) in enumerate(pairs) if old != new]
        self._rows = rows
        keys = {row.media.file_path for row in self._rows}
        thumbs = {k: v for k, v in self._thumbs.items() if k in keys}
        thumbs.update({k: v for k, v in (known or {}).items() if k in keys})
        self._thumbs = thumbs
        self._asked &= keys
        if not same:
            self.endResetModel()
        elif differ:
            last = self.columnCount() - 1
            self.dataChanged.emit(self.index(min(differ), 0), self.index(max(differ), last))

    def media(self, row: int) -> MediaDTO:
        """The media on ``row``."""
        return self._rows[row].media

    def row_dto(self, row: int) -> MediaRowDTO:
        """Everything the listing knows of the media on ``row``."""
        return self._rows[row]

    def thumbnail(self, row: int) -> QImage | None:
        """The thumbnail shown on ``row``, once made."""
        return self._thumbs.get(self._rows[row].media.file_path)

    def set_thumbnail(self, file_path: str, image: QImage | None) -> None:
        """A thumbnail made for ``file_path`` (None: none could be made; keep the placeholder)."""
        if image is None or image.isNull():
            return
        self._thumbs[file_path] = image
        for number, row in enumerate(self._rows):
            if row.media.file_path == file_path:
                index = self.index(number, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return name_text(row) if column == NAME_COLUMN else status_text(row)
        if role == Qt.ItemDataRole.DecorationRole and column == NAME_COLUMN:
            return self._decoration(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS_COLUMN:
            if row.media.upload_status is not UploadStatus.UPLOADED:
                return QColor(theme.ERROR)
            colour = _STATUS_COLOURS.get(row.status)
            return QColor(colour) if colour else None
        return None

    def _decoration(self, row: MediaRowDTO) -> QImage:
        key = row.media.file_path
        image = self._thumbs.get(key)
        if image is not None:
            return image
        if key not in self._asked and row.media.upload_status is UploadStatus.UPLOADED:
            self._asked.add(key)
            self.thumbnail_wanted.emit(row.media)
        return self._placeholder

    def has_no_model(self) -> bool:
        """Whether some listed media has no score and no model is configured to give one."""
        return any(row.ai_state is AiState.NO_MODEL for row in self._rows)

    @staticmethod
    def _tooltip(row: MediaRowDTO) -> str:
        lines = [row.media.readable_name]
        if row.media.display_name:
            lines.append(f"File {row.media.filename}")
        lines.append(f"{format_size(row.media.file_size)}, {row.media.mime_type}")
        if row.width and row.height:
            lines.append(f"{row.width} x {row.height}")
        if row.media.media_type is MediaType.VIDEO:
            if row.duration:
                frames = f", {row.frame_count} frames" if row.frame_count else ""
                fps = f" at {row.fps:g} fps" if row.fps else ""
                lines.append(f"{format_duration(row.duration)}{frames}{fps}")
            lines.append(f"{row.stills} stills, {row.labelled_stills} labelled")
        lines.append(status_text(row))
        if row.ai_state is AiState.NO_MODEL:
            lines.append(f"AI: {AiState.NO_MODEL.label}. {NO_MODEL_HINT}")
        elif row.ai_state is AiState.PENDING:
            lines.append(f"AI: {AiState.PENDING.label}")
        return "\n".join(lines)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None
