"""The real window, offscreen: open a study, play and step a real DICOM cine and a generated video
(the canvas shows exactly frame N), draw, move, resize, undo and redo a box with the mouse and
keys (the store holds its pixel coordinates), extract a frame with E, and come back to the same
study, layout and keys after a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, get_settings, reset_settings_cache
from iamedic_desktop.services.frames import list_frames
from iamedic_desktop.ui.main_window import MainWindow
from tests.e2e.window_fixtures import (  # noqa: F401  (fixtures, used by name)
    isolated_qsettings_fixture,
    main_window_factory_fixture,
    no_operation_left_running_fixture,
    seeded_fixture,
    seeded_template_fixture,
)
from tests.e2e.window_session import (
    STUDY_ALIAS,
    TIMEOUT_MS,
    Seeded,
    activate_media,
    canvas_pixels,
    drag,
    draw_box,
    open_study,
    press,
    show_frame,
    shown_box,
    size_for_review,
    stored_boxes,
    viewport_point,
)
from tests.media_samples import reference_frames

pytestmark = [pytest.mark.gui, pytest.mark.slow]

WindowFactory = Callable[[Settings], MainWindow]
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def _window(qtbot: QtBot, factory: WindowFactory, settings: Settings) -> MainWindow:
    window = factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=TIMEOUT_MS):
        window.show()
    qtbot.waitExposed(window)
    return window


def _assert_frame(window: MainWindow, references: list[np.ndarray], n: int) -> None:
    shown = canvas_pixels(window)
    assert shown.shape == references[n].shape
    assert np.array_equal(shown, references[n]), f"the canvas does not show frame {n}"
    neighbour = references[n - 1] if n > 0 else references[n + 1]
    assert not np.array_equal(shown, neighbour), "neighbouring frames must differ for the check"


def test_a_real_dicom_cine_plays_and_steps_to_exact_frames(
    qtbot: QtBot, main_window_factory: WindowFactory, seeded: tuple[Settings, Seeded]
) -> None:
    settings, data = seeded
    references = reference_frames(data.cine_file)
    window = _window(qtbot, main_window_factory, settings)
    wait = qtbot.waitUntil

    open_study(window, data.study_id, wait)
    assert window.windowTitle() == f"IAMEDIC Workstation — {STUDY_ALIAS}"
    activate_media(window, data.cine.id, wait)
    assert window.player.media_info.frame_count == len(references) == 30
    _assert_frame(window, references, 0)

    for _ in range(3):
        press(window, Qt.Key.Key_D)
    show_frame(window, 3, wait)
    _assert_frame(window, references, 3)
    press(window, Qt.Key.Key_Right, SHIFT)  # ten frames on
    show_frame(window, 13, wait)
    press(window, Qt.Key.Key_A)
    press(window, Qt.Key.Key_Left)
    show_frame(window, 11, wait)
    _assert_frame(window, references, 11)

    # Play a while, pause: the exact frame the player stopped on is on the canvas.
    press(window, Qt.Key.Key_Space)
    assert window.player.is_playing
    wait(lambda: (window.player.shown_frame or 0) >= 15, timeout=TIMEOUT_MS)
    press(window, Qt.Key.Key_Space)
    assert not window.player.is_playing
    stopped = window.player.current_frame
    show_frame(window, stopped, wait)
    _assert_frame(window, references, stopped)


def test_a_generated_video_jumps_and_steps_to_exact_frames(
    qtbot: QtBot, main_window_factory: WindowFactory, seeded: tuple[Settings, Seeded]
) -> None:
    settings, data = seeded
    references = reference_frames(data.video_file)
    window = _window(qtbot, main_window_factory, settings)
    wait = qtbot.waitUntil
    open_study(window, data.study_id, wait)
    activate_media(window, data.video.id, wait)
    assert window.player.media_info.frame_count == len(references) == 100

    press(window, Qt.Key.Key_End)
    show_frame(window, 99, wait)
    _assert_frame(window, references, 99)
    for _ in range(4):
        press(window, Qt.Key.Key_Left, SHIFT)  # back across two key frames
    show_frame(window, 59, wait)
    _assert_frame(window, references, 59)
    press(window, Qt.Key.Key_Home)
    press(window, Qt.Key.Key_D)
    show_frame(window, 1, wait)
    _assert_frame(window, references, 1)

    press(window, Qt.Key.Key_BracketRight)  # the transport bar's next speed
    assert window.player.speed == 1.25
    press(window, Qt.Key.Key_BracketLeft)
    press(window, Qt.Key.Key_BracketLeft)
    assert window.player.speed == 0.75
    assert window.player_panel.transport.speed_box.currentText().startswith("0.75")


def _box_settles(
    window: MainWindow, data: Seeded, frame: int, expected: tuple[float, float, float, float]
) -> Callable[[], bool]:
    def check() -> bool:
        return (
            shown_box(window, "CM") == expected
            and stored_boxes(window, data.cine.id, frame).get("CM") == expected
        )

    return check


def test_a_box_drawn_with_the_mouse_is_stored_moved_resized_undone_and_redone(
    qtbot: QtBot, main_window_factory: WindowFactory, seeded: tuple[Settings, Seeded]
) -> None:
    settings, data = seeded
    window = _window(qtbot, main_window_factory, settings)
    size_for_review(window)
    wait = qtbot.waitUntil
    open_study(window, data.study_id, wait)
    activate_media(window, data.cine.id, wait)
    for _ in range(7):
        press(window, Qt.Key.Key_D)
    show_frame(window, 7, wait)
    assert stored_boxes(window, data.cine.id, 7) == {}  # no still at frame 7 yet

    # Drawn: the first edit of a video frame takes its still, then stores the box on it.
    draw_box(window, Qt.Key.Key_1, 40, 30, 140, 110)
    drawn = (40.0, 30.0, 100.0, 80.0)
    wait(_box_settles(window, data, 7, drawn), timeout=TIMEOUT_MS)
    frames = [f for f in list_frames(window.store.uow, window.store.actor, data.cine.id)]
    assert [f.frame_number for f in frames] == [7]

    # Moved by dragging its inside 20 px right and 10 px down.
    drag(window, viewport_point(window, 90, 70), viewport_point(window, 110, 80))
    moved = (60.0, 40.0, 100.0, 80.0)
    wait(_box_settles(window, data, 7, moved), timeout=TIMEOUT_MS)

    # Resized by its bottom-right handle, 30 px wider and 20 px taller.
    item = window.canvas.box_item("CM")
    assert item is not None and item.is_selected
    corner = item.handle_scene_pos(4)
    drag(
        window,
        viewport_point(window, corner.x(), corner.y()),
        viewport_point(window, corner.x() + 30, corner.y() + 20),
    )
    resized = (60.0, 40.0, 130.0, 100.0)
    wait(_box_settles(window, data, 7, resized), timeout=TIMEOUT_MS)

    # Nudged with the arrows (the selected box takes them; Shift: 10 px).
    press(window, Qt.Key.Key_Right, SHIFT)
    press(window, Qt.Key.Key_Up)
    nudged = (70.0, 39.0, 130.0, 100.0)
    wait(_box_settles(window, data, 7, nudged), timeout=TIMEOUT_MS)
    assert window.player.shown_frame == 7  # the arrows did not step the video

    # Undo: the nudges in a row are one step, then the resize, then the move.
    for expected in (resized, moved, drawn):
        press(window, Qt.Key.Key_Z, CTRL)
        wait(_box_settles(window, data, 7, expected), timeout=TIMEOUT_MS)
    press(window, Qt.Key.Key_Z, CTRL | SHIFT)
    wait(_box_settles(window, data, 7, moved), timeout=TIMEOUT_MS)
    press(window, Qt.Key.Key_Z, CTRL)
    press(window, Qt.Key.Key_Z, CTRL)
    wait(
        lambda: shown_box(window, "CM") is None and stored_boxes(window, data.cine.id, 7) == {},
        timeout=TIMEOUT_MS,
    )
    press(window, Qt.Key.Key_Z, CTRL | SHIFT)
    wait(_box_settles(window, data, 7, drawn), timeout=TIMEOUT_MS)
    wait(lambda: 7 in window.player_panel.timeline.markers("annotated"), timeout=TIMEOUT_MS)


def test_e_extracts_the_frame_on_screen_as_a_still_with_its_frames_row(
    qtbot: QtBot, main_window_factory: WindowFactory, seeded: tuple[Settings, Seeded]
) -> None:
    settings, data = seeded
    window = _window(qtbot, main_window_factory, settings)
    wait = qtbot.waitUntil
    open_study(window, data.study_id, wait)
    activate_media(window, data.video.id, wait)
    for _ in range(2):
        press(window, Qt.Key.Key_Right, SHIFT)
    show_frame(window, 20, wait)

    with qtbot.waitSignal(window.still_extracted, timeout=TIMEOUT_MS) as extracted:
        press(window, Qt.Key.Key_E)

    result = extracted.args[0]
    assert result.created and result.frame.frame_number == 20
    frames = list_frames(window.store.uow, window.store.actor, data.video.id)
    assert [(f.frame_number, f.timestamp_seconds) for f in frames] == [(20, 0.8)]
    still = frames[0].still
    assert still.media_type.value == "frame" and still.mime_type == "image/jpeg"
    assert window.store.media.path(still.file_path).stat().st_size == still.file_size
    wait(lambda: window.player_panel.timeline.markers("still") == [20], timeout=TIMEOUT_MS)
    wait(lambda: window.browser.media_list.model.rowCount() == 3, timeout=TIMEOUT_MS)


def test_the_study_layout_and_remapped_keys_come_back_after_a_restart(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    seeded: tuple[Settings, Seeded],
    isolated_qsettings: Path,
) -> None:
    settings, data = seeded
    first = _window(qtbot, main_window_factory, settings)
    open_study(first, data.study_id, qtbot.waitUntil)
    first.annotation_dock.hide()
    # The offscreen screen is 800 x 800 and the panels need more width than that, so the
    # height carries the check (restoreGeometry fits a window to its screen).
    first.resize(first.width(), 700)
    assert first.height() == 700

    sheet = first.show_shortcut_sheet()
    sheet.select_action("fit")
    sheet.key_edit.setFocus()
    qtbot.keyClick(sheet.key_edit, Qt.Key.Key_G)
    qtbot.waitUntil(lambda: sheet.keys_shown("fit") == "G")
    with qtbot.waitSignal(first.notified, timeout=TIMEOUT_MS) as saved:
        sheet.save_button.click()
    assert saved.args[0].startswith("Shortcuts saved in")
    first.close()

    reset_settings_cache()
    settings = get_settings()
    assert settings.keymap == {"fit": "G"}
    second = _window(qtbot, main_window_factory, settings)
    qtbot.waitUntil(
        lambda: second.current_study is not None and second.current_study.id == data.study_id,
        timeout=TIMEOUT_MS,
    )
    assert second.windowTitle() == f"IAMEDIC Workstation — {STUDY_ALIAS}"
    assert second.height() == 700  # not the default 880
    assert not second.annotation_dock.isVisible() and second.browser.isVisible()
    assert second.window_actions.actions["fit"].shortcut().toString() == "G"
    assert any(isolated_qsettings.rglob("*.conf")), "state written outside the test folder"
