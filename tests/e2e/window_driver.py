"""A scripted session in the real window, run in its own process by the kill test.

    python -m tests.e2e.window_driver edit  IDS_JSON   # make edits, print one line per edit
    python -m tests.e2e.window_driver check IDS_JSON   # restart on the same data, print the store

``edit`` opens the window offscreen on the data folder of ``IAMEDIC_DATA_DIR``, opens the study
and the cine through the browser, and makes edits with the keyboard and the mouse; after each
edit is on screen (the canvas shows it) it prints ``EDIT <n> <what>`` and goes on; after the
last it prints ``LAST`` and keeps running until it is killed. ``check`` is the restart: the
window opens on the same folder (start-up maintenance runs, the last study is re-opened) and it
prints ``STORE <json>`` with the boxes and labels of every still of the cine, then closes.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.theme import apply_theme
from tests.e2e.window_session import (
    activate_media,
    drag,
    draw_box,
    open_study,
    press,
    show_frame,
    shown_box,
    size_for_review,
    viewport_point,
)

TIMEOUT_MS = 60_000


def wait(predicate: Callable[[], object], timeout: int = TIMEOUT_MS) -> None:
    """Run the event loop until ``predicate`` holds."""
    deadline = time.monotonic() + timeout / 1000
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QTest.qWait(5)


def say(line: str) -> None:
    """One line to the parent, at once."""
    print(line, flush=True)


def _box_on_screen(window: MainWindow, bb_class: str, box: tuple[float, ...]) -> Callable[[], bool]:
    # Applied = on the canvas and the "Saving" badge gone (the commit has returned).
    return lambda: shown_box(window, bb_class) == box and window.annotation.is_saved()


def edit(window: MainWindow, study_id: uuid.UUID, cine_id: uuid.UUID) -> None:
    """The scripted edits; a line after each is on screen."""
    open_study(window, study_id, wait)
    activate_media(window, cine_id, wait)
    for _ in range(5):
        press(window, Qt.Key.Key_D)
    show_frame(window, 5, wait)

    draw_box(window, Qt.Key.Key_1, 30, 20, 130, 100)  # CM on frame 5: takes the still first
    wait(_box_on_screen(window, "CM", (30.0, 20.0, 100.0, 80.0)))
    say("EDIT 1 CM box drawn on frame 5")

    for _ in range(3):
        press(window, Qt.Key.Key_Right)  # the selected box takes the arrows
    wait(_box_on_screen(window, "CM", (33.0, 20.0, 100.0, 80.0)))
    say("EDIT 2 CM box nudged 3 px right")

    press(window, Qt.Key.Key_U)
    wait(lambda: window.annotation.usefulness == 1 and window.annotation.is_saved())
    say("EDIT 3 frame 5 labelled useful")

    press(window, Qt.Key.Key_Escape)  # deselect: the arrows step frames again
    wait(lambda: window.canvas.selected_box() is None)
    for _ in range(7):
        press(window, Qt.Key.Key_Right)
    show_frame(window, 12, wait)
    draw_box(window, Qt.Key.Key_3, 60, 50, 100, 90)  # NT on frame 12
    wait(_box_on_screen(window, "NT", (60.0, 50.0, 40.0, 40.0)))
    say("EDIT 4 NT box drawn on frame 12")

    drag(window, viewport_point(window, 80, 70), viewport_point(window, 90, 75))
    wait(_box_on_screen(window, "NT", (70.0, 55.0, 40.0, 40.0)))
    say("EDIT 5 NT box moved on frame 12")
    say("LAST")


def stored(window: MainWindow, cine_id: uuid.UUID) -> dict[str, Any]:
    """Every still of the cine with its label and boxes, read from the reopened store."""
    from iamedic_desktop.services import annotations as annotation_service
    from iamedic_desktop.services.frames import list_frames

    store = window.store
    assert store is not None
    result: dict[str, Any] = {}
    for frame in list_frames(store.uow, store.actor, cine_id):
        labels = annotation_service.get_annotations(store.uow, store.actor, frame.frame_media_id)
        result[str(frame.frame_number)] = {
            "useful": labels.usefulness.usefulness if labels.usefulness else None,
            "boxes": {b.bb_class: [b.x_min, b.y_min, b.width, b.height] for b in labels.boxes},
        }
    return result


def main(argv: list[str]) -> int:
    mode, ids = argv[0], json.loads(argv[1])
    study_id, cine_id = uuid.UUID(ids["study"]), uuid.UUID(ids["cine"])
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    window = MainWindow(get_settings())
    size_for_review(window)
    window.show()
    wait(lambda: window.store is not None)
    if mode == "edit":
        edit(window, study_id, cine_id)
        return app.exec()  # until killed
    wait(lambda: window.current_study is not None)
    say(
        "STORE "
        + json.dumps(
            {
                "reopened_study": str(window.current_study.id),
                "stills": stored(window, cine_id),
            }
        )
    )
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
