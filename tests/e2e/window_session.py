"""Driving the real main window as a user would: shared by the window tests and the driver.

A seeded data folder holds one study with pydicom's real ultrasound cine (imported through
``services.imports.import_paths``, so it is stored as the import stores it) and a generated
H.264 video. The helpers open the study and a media through the browser's own widgets, step with
the keys, draw and edit boxes with the mouse on the canvas, and read back what the canvas shows.
Waiting is passed in (``qtbot.waitUntil`` in tests, an event-loop wait in the driver).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsPixmapItem

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.ui.main_window import MainWindow
from tests.media_samples import VideoSpec, make_video

Wait = Callable[..., None]  # wait(predicate, timeout=ms)

TIMEOUT_MS = 30_000
STUDY_ALIAS = "Anatomy scan 20w"
CINE_SAMPLE = "examples_ybr_color.dcm"
# 4 s at 25 fps, a key frame every second: stepping crosses GOPs.
VIDEO_SPEC = VideoSpec("window_h264_mp4", width=320, height=240, fps=25, frames=100, gop=25)


@dataclass(frozen=True)
class Seeded:
    """What the seeded data folder holds (media rows and their stored files)."""

    study_id: uuid.UUID
    cine: MediaDTO
    video: MediaDTO
    cine_file: Path
    video_file: Path


def seed_data(settings: Settings, sources: Path) -> Seeded:
    """One study with the real cine and a generated video, imported as a user would."""
    from pydicom.data import get_testdata_file

    from iamedic_desktop.services.imports import import_paths
    from iamedic_desktop.services.local_store import open_local_store
    from iamedic_desktop.services.studies import create_study

    cine_source = Path(str(get_testdata_file(CINE_SAMPLE)))
    video_source = make_video(VIDEO_SPEC, sources)
    store = open_local_store(settings)
    try:
        study = create_study(store.uow, store.actor, STUDY_ALIAS)
        imported = []
        for source in (cine_source, video_source):
            report = import_paths(
                store.uow, store.actor, store.media, study.alias, [source], settings=settings
            )
            assert not report.refused, report.refused
            imported.append(report.imported[0])
        cine, video = imported
        return Seeded(
            study_id=study.id,
            cine=cine,
            video=video,
            cine_file=store.media.path(cine.file_path),
            video_file=store.media.path(video.file_path),
        )
    finally:
        store.close()


def copy_data(seed_dir: Path, data_dir: Path, seeded: Seeded) -> Seeded:
    """A private copy of a seeded data folder (the store and its media)."""
    shutil.copytree(seed_dir, data_dir, dirs_exist_ok=True)
    return Seeded(
        study_id=seeded.study_id,
        cine=seeded.cine,
        video=seeded.video,
        cine_file=data_dir / seeded.cine_file.relative_to(seed_dir),
        video_file=data_dir / seeded.video_file.relative_to(seed_dir),
    )


# --- the window ----------------------------------------------------------------------------------

# Large enough for the cine at 1:1 or more, so boxes drawn with the mouse land on exact pixels.
REVIEW_SIZE = (1500, 900)


def size_for_review(window: MainWindow) -> None:
    """Give the window ``REVIEW_SIZE``: a first start fits the 800 x 800 offscreen screen."""
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.resize(*REVIEW_SIZE)


def open_study(window: MainWindow, study_id: uuid.UUID, wait: Wait) -> None:
    """Select the study in the browser and wait for its media list."""
    wait(lambda: window.browser.model.row_of(study_id) is not None, timeout=TIMEOUT_MS)
    window.browser.open_study(study_id)
    wait(
        lambda: window.current_study is not None and window.current_study.id == study_id,
        timeout=TIMEOUT_MS,
    )
    wait(lambda: window.browser.media_list.model.rowCount() >= 1, timeout=TIMEOUT_MS)


def activate_media(window: MainWindow, media_id: uuid.UUID, wait: Wait) -> None:
    """Select a media row and press Enter on it (as a user opens a scan), wait for frame 0."""
    media_list = window.browser.media_list
    wait(lambda: media_list.select_media(media_id), timeout=TIMEOUT_MS)
    media_list.table.setFocus()
    QTest.keyClick(media_list.table, Qt.Key.Key_Return)
    wait(
        lambda: (
            window.current_media is not None
            and window.current_media.id == media_id
            and window.player.media_info is not None
            and window.player.shown_frame == 0
            and is_settled(window)
        ),
        timeout=TIMEOUT_MS,
    )


def is_settled(window: MainWindow) -> bool:
    """Nothing on its way: the frame asked for is shown, annotation reads and writes are done."""
    player = window.player
    return (
        player.is_idle
        and player.shown_frame == player.current_frame
        and window.annotation.is_idle()
        and not window.annotation.is_loading()
    )


def press(window: MainWindow, key: Qt.Key, modifier: Qt.KeyboardModifier | None = None) -> None:
    """A key press on the canvas, as the user's keyboard sends it (shortcuts included)."""
    mods = modifier or Qt.KeyboardModifier.NoModifier
    QTest.keyClick(window.canvas, key, mods)


def show_frame(window: MainWindow, frame: int, wait: Wait) -> None:
    """Wait until ``frame`` is on the canvas and its annotations are read."""
    wait(lambda: window.player.shown_frame == frame and is_settled(window), timeout=TIMEOUT_MS)


def canvas_pixels(window: MainWindow) -> np.ndarray:
    """The pixels of the image item on the canvas (RGB, full resolution)."""
    items = [i for i in window.canvas.scene().items() if isinstance(i, QGraphicsPixmapItem)]
    assert len(items) == 1, "the canvas shows one image"
    return qimage_rgb(items[0].pixmap().toImage())


def qimage_rgb(image: QImage) -> np.ndarray:
    """A QImage as an H x W x 3 uint8 array."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * height)
    return data.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def viewport_point(window: MainWindow, x: float, y: float) -> QPoint:
    """Where image pixel (x, y) is on the canvas's viewport."""
    return window.canvas.viewport_point(QPointF(x, y))


def drag(window: MainWindow, start: QPoint, end: QPoint) -> None:
    """A left-button drag on the canvas from ``start`` to ``end`` (viewport pixels)."""
    viewport = window.canvas.viewport()
    left = Qt.MouseButton.LeftButton
    QTest.mousePress(viewport, left, Qt.KeyboardModifier.NoModifier, start)
    middle = (start + end) / 2
    QTest.mouseMove(viewport, middle)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, left, Qt.KeyboardModifier.NoModifier, end)


def draw_box(
    window: MainWindow, class_key: Qt.Key, x0: float, y0: float, x1: float, y1: float
) -> None:
    """Pick a class with its digit, press W, drag a box from (x0, y0) to (x1, y1) in pixels."""
    press(window, class_key)
    press(window, Qt.Key.Key_W)
    assert window.canvas.draw_mode, "W starts drawing a box"
    drag(window, viewport_point(window, x0, y0), viewport_point(window, x1, y1))


def shown_box(window: MainWindow, bb_class: str) -> tuple[float, float, float, float] | None:
    """The box of a class as the canvas shows it: x, y, width, height in image pixels."""
    item = window.canvas.box_item(bb_class)
    if item is None:
        return None
    state = item.state
    return (state.x, state.y, state.width, state.height)


# --- what the store holds ------------------------------------------------------------------------


def stored_boxes(
    window: MainWindow, video_id: uuid.UUID, frame_number: int
) -> dict[str, tuple[float, float, float, float]]:
    """The boxes stored on the still of a video frame (read here: tests only)."""
    from iamedic_desktop.services import annotations as annotation_service
    from iamedic_desktop.services.frames import list_frames

    store = window.store
    assert store is not None
    stills = [
        f for f in list_frames(store.uow, store.actor, video_id) if f.frame_number == frame_number
    ]
    if not stills:
        return {}
    labels = annotation_service.get_annotations(store.uow, store.actor, stills[0].frame_media_id)
    return {b.bb_class: (b.x_min, b.y_min, b.width, b.height) for b in labels.boxes}
