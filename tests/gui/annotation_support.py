"""The annotation tests' world: a real local store, a real database runner, a canvas on screen
(offscreen) and its controller, images and a video stored as an import would store them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services import media_records
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
from iamedic_desktop.ui.annotation_controller import AnnotationController
from iamedic_desktop.ui.operations import OperationRunner
from tests.media_samples import VIDEO_SPECS, make_image, make_video

Box = tuple[float, float, float, float, bool]  # x, y, width, height, hidden


@dataclass
class World:
    """Everything an annotation test drives and checks."""

    store: LocalStore
    study: StudyDTO
    runner: OperationRunner
    canvas: AnnotationCanvasView
    controller: AnnotationController
    qtbot: QtBot
    folder: Path

    def add_image(self, name: str = "head.png", size: tuple[int, int] = (320, 240)) -> MediaDTO:
        """An image stored and recorded in the study (as an import leaves it)."""
        path = make_image(self.folder, name, size)
        stored = self.store.media.copy_in(path)
        return media_records.create_media(
            self.store.uow, self.store.actor, self.study.id, filename=name,
            file_path=stored.key, file_size=stored.size, mime_type="image/png",
        )  # fmt: skip

    def add_video(self) -> MediaDTO:
        """A 320x240, 25 fps, 50-frame H.264 video stored and recorded in the study."""
        path = make_video(VIDEO_SPECS["h264_mp4"], self.folder / "videos")
        stored = self.store.media.copy_in(path)
        return media_records.create_media(
            self.store.uow, self.store.actor, self.study.id, filename="loop.mp4",
            file_path=stored.key, file_size=stored.size, mime_type="video/mp4",
        )  # fmt: skip

    def image_of(self, media: MediaDTO) -> QImage:
        """The stored image's pixels, as the player would hand them to the canvas."""
        image = QImage(str(self.store.media.path(media.file_path)))
        return image.convertToFormat(QImage.Format.Format_RGB888)

    def open_image(self, media: MediaDTO) -> None:
        """Show an image and annotate it; returns once its annotations are read."""
        self.canvas.show_frame(self.image_of(media))
        self.controller.set_target(media)
        self.settle()

    def settle(self) -> None:
        """Wait until every read and edit queued on the database runner is done."""
        self.qtbot.waitUntil(lambda: self.controller.is_idle() and self.runner.is_idle())

    def stored(self, media_id: uuid.UUID) -> dict[str, Box]:
        """The boxes in the store (read on the test's thread: the UI thread is not involved)."""
        found = annotation_service.get_annotations(self.store.uow, self.store.actor, media_id)
        return {b.bb_class: (b.x_min, b.y_min, b.width, b.height, b.is_hidden) for b in found.boxes}

    def stored_usefulness(self, media_id: uuid.UUID) -> int | None:
        """The stored usefulness label."""
        found = annotation_service.get_annotations(self.store.uow, self.store.actor, media_id)
        return found.usefulness.usefulness if found.usefulness else None

    def at(self, x: float, y: float) -> QPoint:
        """The viewport position of image pixel (x, y)."""
        return self.canvas.viewport_point(QPointF(x, y))

    def drag(self, start: QPoint, end: QPoint) -> None:
        """A left-button drag on the canvas, with a move halfway."""
        viewport = self.canvas.viewport()
        left = Qt.MouseButton.LeftButton
        self.qtbot.mousePress(viewport, left, pos=start)
        self.qtbot.mouseMove(viewport, pos=(start + end) / 2)
        self.qtbot.mouseMove(viewport, pos=end)
        self.qtbot.mouseRelease(viewport, left, pos=end)

    def draw(self, bb_class: str, x0: float, y0: float, x1: float, y1: float) -> None:
        """Pick a class, press "new box" and drag from image pixel (x0, y0) to (x1, y1)."""
        self.controller.select_class(bb_class)
        self.controller.new_box_mode()
        assert self.canvas.draw_mode
        self.drag(self.at(x0, y0), self.at(x1, y1))
        self.settle()


@pytest.fixture
def world(qtbot: QtBot, tmp_path: Path) -> Iterator[World]:
    """A store in the isolated home, a database runner, and a canvas with its controller."""
    store = open_local_store(get_settings())
    study = create_study(store.uow, store.actor, "Annotation study")
    runner = OperationRunner(max_threads=1)
    canvas = AnnotationCanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(640, 480)
    canvas.show()
    qtbot.waitExposed(canvas)
    controller = AnnotationController(canvas, runner)
    controller.set_store(store)
    found = World(store, study, runner, canvas, controller, qtbot, tmp_path / "media")
    yield found
    found.settle()
    runner.shutdown(last=store.close)
