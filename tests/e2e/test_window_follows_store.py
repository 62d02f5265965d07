"""The real window follows a video frame annotated elsewhere: the still taken by another
connection appears in the media list and on the timeline, and its box on the canvas."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.extraction import extract_frame
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.ui.main_window import MainWindow
from tests.e2e.window_fixtures import (  # noqa: F401  (fixtures, used by name)
    isolated_qsettings_fixture,
    main_window_factory_fixture,
    no_operation_left_running_fixture,
    seeded_fixture,
    seeded_template_fixture,
)
from tests.e2e.window_session import (
    TIMEOUT_MS,
    Seeded,
    activate_media,
    open_study,
    shown_box,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]

WindowFactory = Callable[[Settings], MainWindow]
FOLLOW_MS = 5_000


def test_a_box_on_the_open_video_frame_made_elsewhere_appears(
    qtbot: QtBot, main_window_factory: WindowFactory, seeded: tuple[Settings, Seeded]
) -> None:
    settings, data = seeded
    window = main_window_factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=TIMEOUT_MS):
        window.show()
    wait = qtbot.waitUntil
    open_study(window, data.study_id, wait)
    activate_media(window, data.video.id, wait)
    media_list = window.browser.media_list
    listed = media_list.model.rowCount()
    assert window.canvas.box_item("NT") is None

    elsewhere = open_local_store(settings)
    try:
        result = extract_frame(
            elsewhere.uow, elsewhere.actor, elsewhere.media, data.video.id, frame_number=0
        )
        annotation_service.add_box(
            elsewhere.uow,
            elsewhere.actor,
            result.frame.frame_media_id,
            bb_class="NT",
            x_min=40,
            y_min=30,
            width=80,
            height=60,
        )
    finally:
        elsewhere.close()

    wait(lambda: shown_box(window, "NT") == (40, 30, 80, 60), timeout=FOLLOW_MS)
    wait(lambda: media_list.model.rowCount() == listed + 1, timeout=FOLLOW_MS)
    assert window.player.current_frame == 0  # the video stays where it was
    assert window.annotation.undo_stack.count() == 0
