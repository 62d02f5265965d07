"""The keyboard: every window action, its default keys, and the user's changes over them.

Keys are QKeySequence strings in portable form ("Ctrl+Shift+Z"); an action may have several,
separated by "; " ("A; Left"). The user's changes live in the settings file's ``[keymap]``
table (``core/settings_file.py``) and override ``DEFAULT_KEYMAP`` action by action.

Arrow keys are shared on purpose: with a box selected on the canvas they nudge it (Shift: 10
pixels); with none selected they step frames (Shift: 10 frames). A and D always step frames.
Actions marked ``when_box_selected`` take their keys from the others while a box is selected;
any other key bound to two actions is a conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence

log = logging.getLogger(__name__)

PORTABLE = QKeySequence.SequenceFormat.PortableText
NATIVE = QKeySequence.SequenceFormat.NativeText
SEPARATOR = "; "


@dataclass(frozen=True)
class ActionSpec:
    """One keyboard action: its name (the settings key), what it does, where it belongs."""

    name: str
    label: str
    group: str
    default: str
    when_box_selected: bool = False


def _classes() -> tuple[ActionSpec, ...]:
    return tuple(
        ActionSpec(f"class_{i}", f"Box class {i}", "Annotation", str(i)) for i in range(1, 10)
    )


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("play_pause", "Play / pause", "Playback", "Space"),
    ActionSpec("step_back", "Previous frame", "Playback", "A; Left"),
    ActionSpec("step_forward", "Next frame", "Playback", "D; Right"),
    ActionSpec("step_back_10", "Ten frames back", "Playback", "Shift+A; Shift+Left"),
    ActionSpec("step_forward_10", "Ten frames forward", "Playback", "Shift+D; Shift+Right"),
    ActionSpec("jump_start", "First frame", "Playback", "Home"),
    ActionSpec("jump_end", "Last frame", "Playback", "End"),
    ActionSpec("slower", "Slower", "Playback", "["),
    ActionSpec("faster", "Faster", "Playback", "]"),
    ActionSpec("extract_frame", "Extract this frame as a still", "Playback", "E"),
    ActionSpec("new_box", "Draw a new box", "Annotation", "W"),
    ActionSpec("delete_box", "Delete the selected box", "Annotation", "Del"),
    *_classes(),
    ActionSpec("useful", "Label useful", "Annotation", "U"),
    ActionSpec("not_useful", "Label not useful", "Annotation", "N"),
    ActionSpec("toggle_hidden", "Hide / show the selected box", "Annotation", "H"),
    ActionSpec("accept_prediction", "Accept the selected prediction", "Annotation", "P"),
    ActionSpec("copy_previous_boxes", "Copy the previous frame's boxes", "Annotation", "C"),
    ActionSpec("nudge_left", "Nudge box left", "Annotation", "Left", True),
    ActionSpec("nudge_right", "Nudge box right", "Annotation", "Right", True),
    ActionSpec("nudge_up", "Nudge box up", "Annotation", "Up", True),
    ActionSpec("nudge_down", "Nudge box down", "Annotation", "Down", True),
    ActionSpec("nudge_left_10", "Nudge box 10 px left", "Annotation", "Shift+Left", True),
    ActionSpec("nudge_right_10", "Nudge box 10 px right", "Annotation", "Shift+Right", True),
    ActionSpec("nudge_up_10", "Nudge box 10 px up", "Annotation", "Shift+Up", True),
    ActionSpec("nudge_down_10", "Nudge box 10 px down", "Annotation", "Shift+Down", True),
    ActionSpec("undo", "Undo", "Annotation", "Ctrl+Z"),
    ActionSpec("redo", "Redo", "Annotation", "Ctrl+Shift+Z; Ctrl+Y"),
    ActionSpec("save_now", "Save now", "Annotation", "Ctrl+S"),
    ActionSpec("fit", "Fit the image", "View", "F"),
    ActionSpec("actual_size", "Actual size (1:1)", "View", "Ctrl+0"),
    ActionSpec("zoom_in", "Zoom in", "View", "+; ="),
    ActionSpec("zoom_out", "Zoom out", "View", "-"),
    ActionSpec("reset_layout", "Reset layout", "View", "Ctrl+Shift+0"),
    ActionSpec("sync_panel", "Sync panel", "View", "Ctrl+Shift+Y"),
    ActionSpec("predict_frame", "Predict this image or frame", "AI", "Ctrl+P"),
    ActionSpec("predict_selection", "Predict the selected media", "AI", "Ctrl+Shift+P"),
    ActionSpec("predict_study", "Predict the whole study", "AI", "Ctrl+Alt+P"),
    ActionSpec("import_predicted_boxes", "Import the predicted boxes (> 0.5)", "AI", "Shift+P"),
    ActionSpec("score_frames", "Score all frames of the video", "AI", "Ctrl+Shift+L"),
    ActionSpec("auto_frames", "Automatic frames…", "AI", "Ctrl+Shift+E"),
    ActionSpec("import_files", "Import files…", "Application", "Ctrl+I"),
    ActionSpec("export_annotations", "Export annotations…", "Application", "Ctrl+Shift+X"),
    ActionSpec("deleted_studies", "Deleted studies (restore)…", "Application", "Ctrl+Shift+R"),
    # F5 refreshes in browsers and mail programs: here it sends and receives at once.
    ActionSpec("sync_now", "Sync now", "Application", "F5"),
    # Ctrl+, is the Preferences key of GNOME and KDE (QKeySequence.Preferences); Cmd+, on macOS.
    ActionSpec("settings", "Settings…", "Application", "Ctrl+,"),
    ActionSpec("shortcut_sheet", "Keyboard shortcuts", "Application", "F1"),
    ActionSpec("quit", "Quit", "Application", "Ctrl+Q"),
)

SPECS: dict[str, ActionSpec] = {spec.name: spec for spec in ACTIONS}
DEFAULT_KEYMAP: dict[str, str] = {spec.name: spec.default for spec in ACTIONS}


class KeymapError(ValueError):
    """A key sequence that cannot be used for an action (unknown action, bad text, conflict)."""


def parse_keys(text: str) -> list[str]:
    """``"Ctrl+Z; Ctrl+Y"`` -> the sequences in portable form; an empty text means no key."""
    keys: list[str] = []
    for part in (p.strip() for p in text.split(SEPARATOR)):
        if not part:
            continue
        sequence = QKeySequence.fromString(part, PORTABLE)
        portable = sequence.toString(PORTABLE)
        if sequence.isEmpty() or sequence[0].key().name == "Key_unknown" or not portable:
            raise KeymapError(f"'{part}' is not a key Qt knows.")
        if portable not in keys:
            keys.append(portable)
    return keys


def native_text(keys: Iterable[str]) -> str:
    """Keys as this platform writes them (Ctrl on Linux, ⌘ on macOS)."""
    return ", ".join(QKeySequence.fromString(k, PORTABLE).toString(NATIVE) for k in keys)


class Keymap:
    """Keys per action: the defaults with the user's overrides applied (plain data, no widgets)."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._keys = {name: parse_keys(text) for name, text in DEFAULT_KEYMAP.items()}
        for name, text in (overrides or {}).items():
            self.set_keys(name, text, check=False)

    @classmethod
    def load(cls, overrides: Mapping[str, str]) -> tuple[Keymap, list[str]]:
        """The keymap from the settings; overrides that are unknown, bad or clash are dropped."""
        keymap = cls()
        problems: list[str] = []
        for name, text in overrides.items():
            try:
                keymap.set_keys(name, text, check=False)
            except KeymapError as exc:
                problems.append(f"Shortcut for '{name}' ignored: {exc}")
        # A clash keeps the default of one changed action, until no clash is left.
        while clashes := keymap.conflicts():
            key, names = clashes[0]
            changed = [n for n in names if keymap.keys(n) != parse_keys(DEFAULT_KEYMAP[n])]
            if not changed:
                break  # defaults never clash (tested); nothing left to undo
            keymap.reset_action(changed[-1])
            problems.append(
                f"Shortcut {key} was given to {len(names)} actions; "
                f"'{SPECS[changed[-1]].label}' keeps its default key."
            )
        for problem in problems:
            log.warning("⚠️ %s", problem)
        return keymap, problems

    def copy(self) -> Keymap:
        """An independent copy (the shortcut sheet edits one)."""
        other = Keymap()
        other._keys = {name: list(keys) for name, keys in self._keys.items()}
        return other

    def keys(self, action: str) -> list[str]:
        """The action's key sequences in portable form."""
        return list(self._keys[action])

    def text(self, action: str) -> str:
        """The action's keys as stored in the settings ("A; Left")."""
        return SEPARATOR.join(self._keys[action])

    def action_for(self, key: str, *, besides: str | None = None) -> str | None:
        """The action that holds ``key`` in its own right (context-shared keys excluded)."""
        mine = SPECS[besides].when_box_selected if besides else None
        for name, keys in self._keys.items():
            if name == besides or key not in keys:
                continue
            if mine is not None and SPECS[name].when_box_selected != mine:
                continue  # an arrow shared by a nudge and a frame step is no clash
            return name
        return None

    def set_keys(self, action: str, text: str, *, check: bool = True) -> None:
        """Give ``action`` these keys; with ``check``, refuse keys another action holds."""
        if action not in SPECS:
            raise KeymapError(f"there is no action '{action}'.")
        keys = parse_keys(text)
        if check:
            for key in keys:
                holder = self.action_for(key, besides=action)
                if holder is not None:
                    raise KeymapError(
                        f"{native_text([key])} is already '{SPECS[holder].label}'. "
                        "Give that action another key first."
                    )
        self._keys[action] = keys

    def reset_action(self, action: str) -> None:
        """Back to the default keys of one action."""
        self._keys[action] = parse_keys(DEFAULT_KEYMAP[action])

    def conflicts(self) -> list[tuple[str, list[str]]]:
        """Keys bound to more than one action in the same context: (key, actions)."""
        holders: dict[tuple[str, bool], list[str]] = {}
        for name, keys in self._keys.items():
            for key in keys:
                holders.setdefault((key, SPECS[name].when_box_selected), []).append(name)
        return [(key, names) for (key, _), names in holders.items() if len(names) > 1]

    def overrides(self) -> dict[str, str]:
        """What differs from the defaults: the ``[keymap]`` table to save."""
        return {
            name: self.text(name)
            for name in self._keys
            if self._keys[name] != parse_keys(DEFAULT_KEYMAP[name])
        }

    def apply(self, actions: Mapping[str, QAction], *, box_selected: bool = False) -> None:
        """Set the shortcuts of ``actions``; a selected box takes the nudge keys (arrows)."""
        taken = {
            key
            for name, keys in self._keys.items()
            if SPECS[name].when_box_selected
            for key in keys
        }
        for name, action in actions.items():
            keys = self._keys[name]
            if SPECS[name].when_box_selected != box_selected:
                keys = [] if SPECS[name].when_box_selected else [k for k in keys if k not in taken]
            action.setShortcuts([QKeySequence.fromString(k, PORTABLE) for k in keys])
