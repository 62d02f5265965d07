"""What the window remembers between runs: geometry, dock layout, splitter, the last study.

Kept in QSettings (organisation "IAMEDIC", application "Workstation"): view state only, never
clinical data; the last study is remembered by id and re-opened through the store. QSettings
reads its file once and writes on ``sync``; the amounts are a few hundred bytes.
"""

from __future__ import annotations

import logging
import uuid

from PySide6.QtCore import QByteArray, QDataStream, QIODevice, QRect, QSettings, QSize
from PySide6.QtWidgets import QMainWindow, QSplitter

log = logging.getLogger(__name__)

QSETTINGS_ORGANISATION = "IAMEDIC"
QSETTINGS_APPLICATION = "Workstation"
# Bumped when the docks change, so an old layout is not forced on new docks.
LAYOUT_VERSION = 2

_GEOMETRY = "main_window/geometry"
_DOCKS = "main_window/docks"
_SPLITTER = "main_window/review_splitter"
_LAST_STUDY = "main_window/last_study"


def window_settings() -> QSettings:
    """Where window geometry and other view state live (never clinical data)."""
    return QSettings(QSETTINGS_ORGANISATION, QSETTINGS_APPLICATION)


def _bytes(settings: QSettings, key: str) -> QByteArray | None:
    value = settings.value(key)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def saved_frame_size(geometry: QByteArray) -> QSize | None:
    """The window frame's size in ``QWidget.saveGeometry`` bytes (None: not that format).

    Read before restoring, since ``restoreGeometry`` already squeezes a window that is larger
    than the screen, which would hide that its saved dock widths were made for a larger one.
    """
    stream = QDataStream(geometry, QIODevice.OpenModeFlag.ReadOnly)
    magic, _major, _minor = stream.readUInt32(), stream.readUInt16(), stream.readUInt16()
    left, top, right, bottom = (stream.readInt32() for _ in range(4))
    if magic != 0x1D9D0CB or stream.status() != QDataStream.Status.Ok:
        return None
    return QSize(right - left + 1, bottom - top + 1)


class WindowState:
    """Saves and restores one main window's view state."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings or window_settings()

    def restore_geometry(self, window: QMainWindow, screen: QRect) -> bool:
        """Size and position; False when nothing (valid) was saved, or it is larger than
        ``screen`` (the available area): then neither it nor the docks' layout should return."""
        geometry = _bytes(self._settings, _GEOMETRY)
        if geometry is None:
            return False
        size = saved_frame_size(geometry)
        if size is None or size.width() > screen.width() or size.height() > screen.height():
            log.warning("⚠️ The saved window layout is larger than the screen: not restored")
            return False
        return window.restoreGeometry(geometry)

    def restore_layout(self, window: QMainWindow, splitter: QSplitter | None = None) -> bool:
        """Docks (where, how wide, floating, hidden) and the review area's splitter."""
        if splitter is not None and (sizes := _bytes(self._settings, _SPLITTER)) is not None:
            splitter.restoreState(sizes)
        docks = _bytes(self._settings, _DOCKS)
        return docks is not None and window.restoreState(docks, LAYOUT_VERSION)

    def last_study_id(self) -> uuid.UUID | None:
        """The study open when the window last closed."""
        value = self._settings.value(_LAST_STUDY)
        try:
            return uuid.UUID(str(value)) if value else None
        except ValueError:
            return None

    def remember_study(self, study_id: uuid.UUID | None) -> None:
        """Note the open study now, so a crash still re-opens it."""
        if study_id is None:
            self._settings.remove(_LAST_STUDY)
        else:
            self._settings.setValue(_LAST_STUDY, str(study_id))
        self._settings.sync()  # a few bytes; a killed window still knows its study

    def save(self, window: QMainWindow, splitter: QSplitter | None = None) -> None:
        """Geometry, docks and splitter, written to disk now."""
        self._settings.setValue(_GEOMETRY, window.saveGeometry())
        self._settings.setValue(_DOCKS, window.saveState(LAYOUT_VERSION))
        if splitter is not None:
            self._settings.setValue(_SPLITTER, splitter.saveState())
        self._settings.sync()
