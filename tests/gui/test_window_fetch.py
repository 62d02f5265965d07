"""The window opens a media whose file is not here yet (pulled from the central database): the
review area says how far the fetch got, then shows the scan; a damaged central copy, or no
central database to fetch from, is said where the scan would be. Real PostgreSQL, real Qt."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, text

from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.models import MediaType
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services import media_fetch
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.media_records import get_media
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.sync.central_files import open_central_files
from iamedic_desktop.ui.main_window import MainWindow
from tests.media_samples import VideoSpec, make_image, make_video
from tests.support.pulled_media import pull_media, put_central

pytestmark = [pytest.mark.gui, pytest.mark.postgres]

WindowFactory = Callable[[Settings], MainWindow]
LOAD_MS = 30_000
# Several 1 MiB chunks: the review area has percentages to show on the way.
VIDEO = VideoSpec(
    "fetch_window_mp4",
    width=640,
    height=480,
    frames=50,
    gop=1,
    pix_fmt="yuv444p",
    extra=("-qp", "0", "-bf", "0", "-preset", "ultrafast"),
)


def _pulled(central_url: str | None, tmp_path: Path) -> tuple[MediaDTO, MediaDTO, uuid.UUID]:
    """A study with a pulled video and image; both files central, the image's damaged."""
    store = open_local_store(get_settings())
    try:
        study = create_study(store.uow, store.actor, "Pulled")
        video = make_video(VIDEO, tmp_path / "central")
        image = make_image(tmp_path / "central", "scan.png", size=(320, 240))
        video_id = pull_media(store, study.id, video, MediaType.VIDEO, "video/mp4")
        image_id = pull_media(store, study.id, image, MediaType.IMAGE, "image/png")
        if central_url is not None:
            engine = create_engine(central_url)
            upgrade_central(engine, file_storage="database")
            files = open_central_files(Settings(central_media_dir=None), engine.connect)
            put_central(store, files, video_id, video)
            key = put_central(store, files, image_id, image)
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE workstation.file_chunks SET data = '\\x00' WHERE file_path = :k"),
                    {"k": key},
                )
            engine.dispose()
        media = [get_media(store.uow, store.actor, m) for m in (video_id, image_id)]
    finally:
        store.close()
    return media[0], media[1], study.id


def _window(qtbot: QtBot, factory: WindowFactory, study_id: uuid.UUID) -> MainWindow:
    window = factory(get_settings())
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_MS):
        window.show()
    qtbot.waitUntil(lambda: window.browser.model.row_of(study_id) is not None, timeout=LOAD_MS)
    window.browser.open_study(study_id)
    qtbot.waitUntil(lambda: window.browser.media_list.study_id == study_id, timeout=LOAD_MS)
    return window


def test_a_pulled_video_is_fetched_with_its_progress_shown_then_played(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    pg_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IAMEDIC_CENTRAL_URL", pg_database)
    monkeypatch.setattr(media_fetch, "PROGRESS_INTERVAL_S", 0.0)  # a report per chunk
    video, image, study_id = _pulled(pg_database, tmp_path)
    window = _window(qtbot, main_window_factory, study_id)
    notices: list[str] = []
    window.fetcher.progressed.connect(lambda _id, _p: notices.append(window.review.notice))

    window.open_media(video)

    assert not window.review.media_open  # the fetch runs in the background
    qtbot.waitUntil(lambda: window.player.shown_frame == 0, timeout=LOAD_MS)
    assert window.review.media_open and window.player.media_info is not None
    assert window.player.media_info.frame_count == 50
    assert notices[0] == "Fetching from the central database… 0 %"
    assert notices[-1] == "Fetching from the central database… 100 %"
    assert len(notices) > 2  # percentages on the way, not just the start and the end
    assert window.store is not None
    assert window.store.media.path(video.file_path).stat().st_size == video.file_size

    window.open_media(image)  # its central copy is damaged

    qtbot.waitUntil(lambda: "could not be fetched" in window.review.notice, timeout=LOAD_MS)
    assert "is damaged" in window.review.notice
    assert not window.review.media_open and window.player.media_info is None
    assert not window.store.media.exists(image.file_path)


def test_without_a_central_database_the_review_area_says_why_the_scan_cannot_come(
    qtbot: QtBot, main_window_factory: WindowFactory, tmp_path: Path
) -> None:
    video, _image, study_id = _pulled(None, tmp_path)
    window = _window(qtbot, main_window_factory, study_id)

    with qtbot.waitSignal(window.notified, timeout=LOAD_MS) as told:
        window.open_media(video)

    qtbot.waitUntil(lambda: "could not be fetched" in window.review.notice, timeout=LOAD_MS)
    assert "no central database is configured" in window.review.notice
    assert str(told.args[0]).startswith("Error: The file of this media is not on this")
    assert not window.review.media_open
