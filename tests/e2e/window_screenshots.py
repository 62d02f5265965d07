"""The real window filling a screen of a given size, with a real cine open: checked and grabbed.

    xvfb-run -a -s "-screen 0 1280x720x24" python -m tests.e2e.window_screenshots OUT_DIR

Run on a virtual X screen of the size to check (no window manager: the window takes the whole
screen, as a maximised window does). The data folder of ``IAMEDIC_DATA_DIR`` gets studies, one
of them (with a 255-character alias) holding pydicom's real ultrasound cine imported as a user
imports it, two stills, boxes and a model's predictions on one of them. The window opens the
cine through the browser, pauses on that still, and then checks that nothing is clipped: the
window is as large as the screen, no dock scrolls, and every button of each dock and of the
review area lies whole inside its visible area. It saves ``window-<W>x<H>.png`` in OUT_DIR and
prints one ``CLIPPED <what>`` line per problem, then ``DONE``.
``tests/e2e/test_window_screenshots.py`` runs it at 1280x720 and 1920x1080; with
``UPDATE_SCREENSHOTS=1`` the pictures go to ``docs/screenshots``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QScrollArea, QWidget

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.theme import apply_theme
from tests.e2e.window_session import activate_media, is_settled, open_study

LONG_ALIAS = "Anatomy scan 20w, second opinion " + "x" * (255 - 33)
STILL_FRAME = 12
# Below this, docks may scroll up and down: a 1280x720 screen less a window manager's title bar.
SMALL_SCREEN = (1280, 690)


def seed(settings: Settings) -> tuple[str, str]:
    """Studies, the real cine in a long-named one, stills, boxes and predictions: (study, cine)."""
    from pydicom.data import get_testdata_file

    from iamedic_desktop.schemas.predictions import BoxPredictionIn
    from iamedic_desktop.services import annotations
    from iamedic_desktop.services.extraction import extract_frame
    from iamedic_desktop.services.imports import import_paths
    from iamedic_desktop.services.local_store import open_local_store
    from iamedic_desktop.services.predictions import store_box_predictions
    from iamedic_desktop.services.studies import create_study

    store = open_local_store(settings)
    try:
        uow, actor = store.uow, store.actor
        for alias in ("First trimester 11w+6", "Twin pregnancy 16w", "NT check 12w+3"):
            create_study(uow, actor, alias)
        study = create_study(uow, actor, LONG_ALIAS)
        source = Path(str(get_testdata_file("examples_ybr_color.dcm")))
        report = import_paths(uow, actor, store.media, study.alias, [source], settings=settings)
        cine = report.imported[0]
        extract_frame(uow, actor, store.media, cine.id, frame_number=20)
        still = extract_frame(uow, actor, store.media, cine.id, frame_number=STILL_FRAME).frame
        for bb_class, (x, y, w, h) in {
            "CM": (104, 66, 76, 60),
            "thalami": (120, 150, 50, 28),
        }.items():
            annotations.add_box(
                uow,
                actor,
                still.frame_media_id,
                bb_class=bb_class,
                x_min=x,
                y_min=y,
                width=w,
                height=h,
            )
        annotations.set_usefulness(uow, actor, still.frame_media_id, 1)
        box = BoxPredictionIn(
            bb_class="CM", confidence=0.91, x_min=100, y_min=62, width=82, height=66
        )
        store_box_predictions(
            uow, actor, still.frame_media_id, model_version="iamedic-boxes - 3", boxes=[box]
        )
        return str(study.id), str(cine.id)
    finally:
        store.close()


def clipped(window: MainWindow) -> list[str]:
    """What is not shown whole: the window, a scrolling dock, a button cut or hidden.

    Below 1280x720 a dock may scroll up and down (the rest of it is a scroll away), but never
    sideways, and the review area is always whole.
    """
    problems: list[str] = []
    screen = window.screen().geometry()
    small = screen.width() < SMALL_SCREEN[0] or screen.height() < SMALL_SCREEN[1]
    if window.frameGeometry().width() > screen.width():
        problems.append(
            f"the window is {window.frameGeometry().width()} px on a {screen.width()} px screen"
        )
    parts: list[QWidget] = [window.browser, window.annotation_dock, window.review]
    for part in parts:
        name = part.objectName() or type(part).__name__
        scrolls_down = False
        for area in part.findChildren(QScrollArea):
            scrolls_down |= area.verticalScrollBar().isVisible()
            if area.horizontalScrollBar().isVisible() or (
                area.verticalScrollBar().isVisible() and not small
            ):
                problems.append(f"{name} scrolls")
        for button in part.findChildren(QAbstractButton):
            if not button.isVisible() or button.parent() is part:
                continue  # hidden on purpose, or the dock's own title buttons
            label = button.text() or button.toolTip()
            inside = QRect(button.mapTo(part, button.rect().topLeft()), button.size())
            if small and scrolls_down:
                inside.setTop(0)  # up and down: a scroll away; sideways: never
                inside.setBottom(0)
            if not part.rect().contains(inside):
                problems.append(f"{label!r} is cut in {name}")
            elif not (small and scrolls_down) and (
                button.visibleRegion().boundingRect() != button.rect()
            ):
                problems.append(f"{label!r} is partly hidden in {name}")
    return problems


def main(out: Path) -> int:
    """Seed, open, check, grab; the exit code says whether anything was clipped."""
    settings = get_settings()
    study_id, cine_id = seed(settings)
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("IAMEDIC")
    app.setApplicationName("Workstation")
    apply_theme(app)
    window = MainWindow(settings)
    screen = app.primaryScreen().geometry()
    window.setGeometry(screen)  # no window manager: the window is the screen
    window.show()

    def wait(predicate: Callable[[], object], timeout: int = 60_000) -> None:
        deadline = time.monotonic() + timeout / 1000
        while not predicate():
            if time.monotonic() > deadline:
                raise SystemExit("❌ the window did not get there in time")
            QTest.qWait(20)

    import uuid

    wait(lambda: window.store is not None)
    open_study(window, uuid.UUID(study_id), wait)
    activate_media(window, uuid.UUID(cine_id), wait)
    wait(lambda: window.player_panel.thumbnails.is_idle())
    window.player.seek(STILL_FRAME)
    wait(lambda: window.player.shown_frame == STILL_FRAME and is_settled(window))
    wait(lambda: len(window.canvas.box_states()) == 2)
    window.canvas.select_box("CM")
    QTest.qWait(300)  # one more paint after the last change
    problems = clipped(window)
    out.mkdir(parents=True, exist_ok=True)
    name = f"window-{screen.width()}x{screen.height()}.png"
    window.grab().save(str(out / name))
    # Long texts after the grab: an undo label ("Undo Nudge the CM box") and a long message.
    window.annotation.nudge(1, 0)
    wait(lambda: window.annotation_dock.undo_button.isEnabled() and is_settled(window))
    window.notify(f"Imported {'a very long file name ' * 20}.mp4 into {LONG_ALIAS}")
    QTest.qWait(100)
    problems += [f"{problem} (long texts)" for problem in clipped(window)]
    for problem in problems:
        print(f"CLIPPED {problem}", flush=True)
    print(f"SAVED {out / name}", flush=True)
    print("DONE", flush=True)
    window.close()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
