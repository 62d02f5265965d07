"""The media list on its own: real imported media, thumbnails made off the UI thread (and kept
on disk), readable names with type and length, status, and activation by double-click and by
Enter."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from iamedic_desktop.models import MediaType
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.ui.media_list_model import THUMB_SIZE, format_duration, format_size
from iamedic_desktop.ui.media_list_widget import PREVIEW_FOLDER, MediaListWidget
from tests.gui.study_browser_support import (
    WAIT_MS,
    BrowserEnv,
    add_media,
    add_widget,
    browser_env,
)
from tests.media_samples import VIDEO_SPECS, make_image, make_video

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: QtBot) -> Iterator[BrowserEnv]:
    with browser_env(qtbot) as made:
        yield made


def _pixels(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(rgb.constBits(), np.uint8, rgb.sizeInBytes())
    rows = data.reshape(rgb.height(), rgb.bytesPerLine())
    return rows[:, : rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).copy()


def test_thumbnails_columns_and_activation(qtbot: QtBot, env: BrowserEnv, tmp_path: Path) -> None:
    store = env.store
    study = create_study(store.uow, store.actor, "Scan")
    video = make_video(VIDEO_SPECS["h264_mp4"], tmp_path / "src")  # 50 frames at 25 fps
    image = make_image(tmp_path / "src", "probe.png", (120, 90))
    report = import_paths(
        store.uow, store.actor, store.media, str(study.id), [video, image], settings=store.settings
    )
    assert [m.media_type for m in report.imported] == [MediaType.VIDEO, MediaType.IMAGE]
    annotation_service.set_usefulness(store.uow, store.actor, report.imported[1].id, 1)

    widget = MediaListWidget(env.database, env.workers)
    add_widget(qtbot, env, widget)
    widget.resize(520, 300)
    widget.show()
    widget.set_store(store)
    with qtbot.waitSignal(widget.media_loaded, timeout=WAIT_MS) as loaded:
        widget.show_study(study.id)
    assert loaded.args == [2]

    model = widget.model
    texts = [[model.data(model.index(r, c)) for c in range(2)] for r in range(2)]
    assert texts == [
        [f"h264_mp4.mp4\nVideo · {format_duration(2.0)}", "Not annotated"],
        [f"probe.png\nImage · {format_size(report.imported[1].file_size)}", "Annotated"],
    ]
    assert format_duration(2.0) == "0:02.0"
    # No classifier model: nothing waits for the AI, and the list says why none will score.
    assert widget.no_model_notice.isVisible()
    assert widget.no_model_notice.text().startswith("No model")
    assert "No model" in model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole)

    # Thumbnails are made on the workers once painted, then shown: real pixels of each file.
    qtbot.waitUntil(lambda: all(model.thumbnail(r) is not None for r in range(2)), timeout=WAIT_MS)
    for row in range(2):
        thumb = model.thumbnail(row)
        assert thumb is not None
        assert 0 < thumb.width() <= THUMB_SIZE.width() and 0 < thumb.height() <= THUMB_SIZE.height()
        pixels = _pixels(thumb)
        assert pixels.max() > 60 and pixels.std() > 10  # a picture, not a blank
        key = model.media(row).file_path
        assert (store.settings.cache_dir / PREVIEW_FOLDER / f"{key}.jpg").is_file()
    assert model.thumbnail(1).width() == 80 and model.thumbnail(1).height() == 60  # 4:3 kept
    # The image's thumbnail is the image: its left column is dark, its right column bright red.
    small = _pixels(model.thumbnail(1)).astype(int)
    assert small[:, -1, 0].mean() > small[:, 0, 0].mean() + 150

    # Double-click opens a media; so does Enter on the selected row.
    rect = widget.table.visualRect(model.index(0, 1))
    viewport = widget.table.viewport()
    # A real double-click: press and release (a click only selects), then the double-click
    # event (QTest sends it alone, which an item view ignores without the press before it).
    with qtbot.assertNotEmitted(widget.media_activated):
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(widget.media_activated, timeout=WAIT_MS) as activated:
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert activated.args[0].id == report.imported[0].id
    widget.table.setFocus()
    widget.table.selectRow(1)
    with qtbot.waitSignal(widget.media_activated, timeout=WAIT_MS) as activated:
        qtbot.keyClick(widget.table, Qt.Key.Key_Return)
    assert activated.args[0].id == report.imported[1].id

    # A second listing (another widget, say after a restart) reads the previews from disk.
    with qtbot.waitSignal(widget.media_loaded, timeout=WAIT_MS):
        widget.refresh()
    assert widget.select_media(report.imported[1].id)


def test_formats() -> None:
    assert format_duration(59.96) == "1:00.0"
    assert format_duration(3725) == "1:02:05"
    assert format_size(512) == "512 bytes"
    assert format_size(2048) == "2.0 KB"
    assert format_size(5 * 1024**3) == "5.0 GB"


def test_names_beside_thumbnails_at_the_default_width(qtbot: QtBot, env: BrowserEnv) -> None:
    """In the study browser's default width a row shows a readable name beside its thumbnail;
    a still reads as its time and frame, and a long name is elided with the whole of it in
    the tooltip."""
    from iamedic_desktop.services.frame_records import NewStill, record_frames
    from iamedic_desktop.ui.window_layout import DOCK_WIDTH

    store = env.store
    study = create_study(store.uow, store.actor, "Scan")
    long_name = "second-trimester-anatomy-survey-cine-loop-number-07.mp4"
    video = add_media(store, study.id, MediaType.VIDEO, name=long_name)
    with store.uow() as uow:  # its frame timing, as an import records it (the file is not read)
        probe = json.dumps({"fps": 30.0, "frame_count": 60, "is_vfr": False})
        uow.session.add(
            MediaFile(file_path=video.file_path, sha256="0" * 64, size=1, probe_json=probe)
        )
        uow.commit()
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(jpeg, "JPEG")
    still = store.media.write_bytes(jpeg.getvalue())
    record_frames(
        store.uow, store.actor, video.id, [NewStill(0.167, 5, 64, 48, still.key, still.size)]
    )

    widget = MediaListWidget(env.database, env.workers)
    add_widget(qtbot, env, widget)
    widget.resize(DOCK_WIDTH[0] - 16, 400)  # the dock's default width less its margins
    widget.show()
    widget.set_store(store)
    with qtbot.waitSignal(widget.media_loaded, timeout=WAIT_MS):
        widget.show_study(study.id)

    model, table = widget.model, widget.table
    names = [str(model.data(model.index(r, 0))).split("\n")[0] for r in range(2)]
    assert names == [long_name, "Still at 0:00.167 (frame 5)"]
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole).startswith("Still at")
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole).startswith(long_name)
    # The name column leaves room for words beside the thumbnail, and it is on screen.
    text_width = table.columnWidth(0) - THUMB_SIZE.width() - 12
    assert text_width >= 110, text_width
    rect = table.visualRect(model.index(0, 0))
    assert rect.left() >= 0 and rect.right() <= table.viewport().width()
    shown = table.fontMetrics().elidedText(long_name, Qt.TextElideMode.ElideRight, text_width)
    assert len(shown) >= 12 and shown.endswith("…")  # elided, not hidden
