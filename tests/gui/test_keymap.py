"""The keymap: annotators' defaults, remapping, clashes refused, arrows shared by context."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.keymap import (
    ACTIONS,
    DEFAULT_KEYMAP,
    PORTABLE,
    Keymap,
    KeymapError,
    parse_keys,
)

pytestmark = pytest.mark.gui

ISSUE_DEFAULTS = {
    "play_pause": ["Space"],
    "step_back": ["A", "Left"],
    "step_forward": ["D", "Right"],
    "step_back_10": ["Shift+Left"],
    "step_forward_10": ["Shift+Right"],
    "new_box": ["W"],
    "delete_box": ["Del"],
    "undo": ["Ctrl+Z"],
    "redo": ["Ctrl+Shift+Z"],
    "fit": ["F"],
    "save_now": ["Ctrl+S"],
    "extract_frame": ["E"],
    "useful": ["U"],
    "not_useful": ["N"],
    "shortcut_sheet": ["F1"],
    **{f"class_{i}": [str(i)] for i in range(1, 10)},
}


def test_the_defaults_are_the_keys_annotators_know() -> None:
    keymap = Keymap()
    for action, keys in ISSUE_DEFAULTS.items():
        assert set(keys) <= set(keymap.keys(action)), action
    assert set(DEFAULT_KEYMAP) == {spec.name for spec in ACTIONS}


def test_the_defaults_have_no_clash() -> None:
    assert Keymap().conflicts() == []
    for spec in ACTIONS:
        assert parse_keys(spec.default), f"{spec.name} has no default key"


def test_overrides_replace_defaults_and_are_all_that_is_saved() -> None:
    keymap = Keymap({"play_pause": "K", "fit": "Shift+F; G"})
    assert keymap.keys("play_pause") == ["K"]
    assert keymap.keys("fit") == ["Shift+F", "G"]
    assert keymap.keys("step_back") == ["A", "Left"]
    assert keymap.overrides() == {"play_pause": "K", "fit": "Shift+F; G"}
    keymap.reset_action("fit")
    assert keymap.overrides() == {"play_pause": "K"}


def test_a_key_held_by_another_action_is_refused_with_its_name() -> None:
    keymap = Keymap()
    with pytest.raises(KeymapError, match="Ctrl\\+S is already 'Save now'"):
        keymap.set_keys("fit", "Ctrl+S")
    assert keymap.keys("fit") == ["F"]


def test_arrows_are_shared_only_between_nudging_and_frame_steps() -> None:
    keymap = Keymap()
    keymap.set_keys("nudge_left", "Left")  # the step back's arrow: a different context
    with pytest.raises(KeymapError, match="already 'Nudge box right'"):
        keymap.set_keys("nudge_left", "Right")  # another nudge: a clash
    with pytest.raises(KeymapError, match="already 'Previous frame'"):
        keymap.set_keys("fit", "Left")


def test_bad_or_clashing_settings_fall_back_to_defaults_with_a_message() -> None:
    keymap, problems = Keymap.load(
        {"no_such_action": "K", "fit": "Nonsense+Key", "zoom_in": "Space", "faster": "K"}
    )
    assert keymap.keys("fit") == ["F"]
    assert keymap.keys("faster") == ["K"]
    assert keymap.conflicts() == []
    # One of the two holders of Space went back to its default: the changed one.
    assert keymap.keys("play_pause") == ["Space"]
    assert keymap.keys("zoom_in") == ["+", "="]
    assert len(problems) == 3
    assert any("no action 'no_such_action'" in p for p in problems)
    assert any("'Nonsense+Key' is not a key" in p for p in problems)
    assert any("Space was given to 2 actions; 'Zoom in' keeps its default" in p for p in problems)


def test_swapped_keys_load_without_a_clash() -> None:
    keymap, problems = Keymap.load({"fit": "Space", "play_pause": "F"})
    assert problems == []
    assert keymap.keys("fit") == ["Space"] and keymap.keys("play_pause") == ["F"]


def _shortcuts(action: QAction) -> list[str]:
    return [s.toString(PORTABLE) for s in action.shortcuts()]


def test_applying_gives_arrows_to_nudges_only_while_a_box_is_selected(qtbot: QtBot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    actions = {spec.name: QAction(spec.label, owner) for spec in ACTIONS}
    keymap = Keymap()

    keymap.apply(actions)
    assert _shortcuts(actions["step_back"]) == ["A", "Left"]
    assert _shortcuts(actions["step_back_10"]) == ["Shift+A", "Shift+Left"]
    assert _shortcuts(actions["nudge_left"]) == []

    keymap.apply(actions, box_selected=True)
    assert _shortcuts(actions["step_back"]) == ["A"]
    assert _shortcuts(actions["step_back_10"]) == ["Shift+A"]
    assert _shortcuts(actions["nudge_left"]) == ["Left"]
    assert _shortcuts(actions["nudge_up_10"]) == ["Shift+Up"]
    assert actions["undo"].shortcut() == QKeySequence("Ctrl+Z")
