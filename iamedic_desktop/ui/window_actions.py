"""The window's keyboard actions: one QAction per keymap action, shortcuts from the keymap.

The actions live on the main window (window-wide shortcuts); a text field that takes a key
(the study search) keeps it, since Qt lets a focused editor override a shortcut. What an
action does is bound by the composition root (``bind``); an action with nothing bound yet is
disabled rather than silent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from iamedic_desktop.ui.keymap import ACTIONS, SPECS, Keymap
from iamedic_desktop.ui.transport_widget import SPEEDS

if TYPE_CHECKING:
    from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
    from iamedic_desktop.ui.annotation_controller import AnnotationController
    from iamedic_desktop.ui.player_controller import PlayerController
    from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock
    from iamedic_desktop.ui.sync_controller import SyncController
    from iamedic_desktop.ui.sync_panel import SyncPanelDock

log = logging.getLogger(__name__)

NUDGES = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


class WindowActions(QObject):
    """Creates the actions on ``window`` and keeps their shortcuts in step with the keymap."""

    def __init__(self, window: QWidget, keymap: Keymap) -> None:
        super().__init__(window)
        self._keymap = keymap
        self._box_selected = False
        self.actions: dict[str, QAction] = {}
        for spec in ACTIONS:
            action = QAction(spec.label, window)
            action.setObjectName(f"action_{spec.name}")
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            # Held keys (a frame step, a nudge) repeat; one-shot actions must not.
            action.setAutoRepeat(spec.group in {"Playback"} or spec.when_box_selected)
            action.setEnabled(False)
            window.addAction(action)
            self.actions[spec.name] = action
        self._apply()

    @property
    def keymap(self) -> Keymap:
        """The keymap in force."""
        return self._keymap

    def bind(self, name: str, handler: Callable[[], object]) -> None:
        """Run ``handler`` when the action ``name`` triggers."""
        action = self.actions[name]
        action.triggered.connect(lambda _checked=False: handler())
        action.setEnabled(True)

    def set_keymap(self, keymap: Keymap) -> None:
        """Use another keymap (the shortcut sheet saved one)."""
        self._keymap = keymap
        self._apply()

    def set_box_selected(self, selected: bool) -> None:
        """A selected box takes the arrows (nudge); without one they step frames."""
        if selected != self._box_selected:
            self._box_selected = selected
            self._apply()

    def trigger(self, name: str) -> None:
        """Run an action as its key would (menus, tests)."""
        if name not in SPECS:
            raise KeyError(name)
        self.actions[name].trigger()

    def _apply(self) -> None:
        self._keymap.apply(self.actions, box_selected=self._box_selected)


def _next_speed(current: float, faster: bool) -> float:
    # The transport bar's speeds, one step at a time.
    steps = [x for x in SPEEDS if (x > current if faster else x < current)]
    if not steps:
        return current
    return min(steps) if faster else max(steps)


def bind_review_actions(
    actions: WindowActions,
    player: PlayerController,
    annotation: AnnotationController,
    canvas: AnnotationCanvasView,
) -> None:
    """What the playback, annotation and view keys do: the player's, controller's and canvas's
    own methods (the fixed interfaces of issue 4)."""
    bind = actions.bind
    bind("play_pause", player.toggle_play)
    for name, delta in {"step_back": -1, "step_forward": 1}.items():
        bind(name, functools.partial(player.step, delta))
        bind(f"{name}_10", functools.partial(player.step, 10 * delta))
    bind("jump_start", player.seek_start)
    bind("jump_end", player.seek_end)
    bind("slower", lambda: player.set_speed(_next_speed(player.speed, faster=False)))
    bind("faster", lambda: player.set_speed(_next_speed(player.speed, faster=True)))
    bind("new_box", annotation.new_box_mode)
    bind("delete_box", annotation.delete_selected)
    for i in range(1, 10):
        bind(f"class_{i}", functools.partial(annotation.class_key, i))
    bind("useful", functools.partial(annotation.set_useful, True))
    bind("not_useful", functools.partial(annotation.set_useful, False))
    bind("toggle_hidden", annotation.toggle_hidden)
    bind("accept_prediction", annotation.accept_prediction)
    bind("copy_previous_boxes", annotation.copy_previous_boxes)
    for name, (dx, dy) in NUDGES.items():
        bind(f"nudge_{name}", functools.partial(annotation.nudge, dx, dy))
        bind(f"nudge_{name}_10", functools.partial(annotation.nudge, 10 * dx, 10 * dy))
    bind("undo", annotation.undo_stack.undo)
    bind("redo", annotation.undo_stack.redo)
    bind("save_now", annotation.save_now)
    bind("fit", canvas.fit)
    bind("actual_size", canvas.actual_size)
    bind("zoom_in", canvas.zoom_in)
    bind("zoom_out", canvas.zoom_out)


def bind_study_actions(actions: WindowActions, browser: StudyBrowserDock) -> None:
    """What the study keys do: the study browser's own methods."""
    actions.bind("deleted_studies", browser.show_deleted_studies)


def bind_sync_actions(actions: WindowActions, sync: SyncController, panel: SyncPanelDock) -> None:
    """What the sync keys do: sync now, and show or hide the sync panel."""
    actions.bind("sync_now", sync.sync_now)
    actions.bind("sync_panel", panel.toggle)
