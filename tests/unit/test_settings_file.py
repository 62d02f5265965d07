"""The settings file is updated in place: the keymap table is written, other keys are kept."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.settings import Settings, default_settings_file
from iamedic_desktop.core.settings_file import (
    dumps_toml,
    read_settings_file,
    restore_settings_file,
    save_keymap,
    save_settings,
    settings_file_text,
    update_settings_file,
)


def test_the_keymap_is_saved_beside_the_other_settings_and_read_back() -> None:
    path = default_settings_file()  # the test's own file (tests/conftest.py)
    path.write_text(
        'log_level = "DEBUG"\nframe_cache_mb = 64\n\n[extra]\nname = "kept"\n', encoding="utf-8"
    )

    save_keymap({"play_pause": "K", "step_back": "J; Left", "odd key": 'Ctrl+"'})

    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert document["log_level"] == "DEBUG"
    assert document["frame_cache_mb"] == 64
    assert document["extra"] == {"name": "kept"}
    assert document["keymap"] == {"odd key": 'Ctrl+"', "play_pause": "K", "step_back": "J; Left"}
    settings = Settings()
    assert settings.keymap["step_back"] == "J; Left"
    assert settings.log_level == "DEBUG"


def test_an_empty_keymap_removes_the_table() -> None:
    path = default_settings_file()
    save_keymap({"fit": "Shift+F"})
    save_keymap({})
    assert "keymap" not in read_settings_file(path)
    assert Settings().keymap == {}


def test_the_file_is_replaced_whole_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "settings.toml"
    update_settings_file({"log_level": "WARNING"}, path)
    inode = path.stat().st_ino
    update_settings_file({"log_level": "ERROR", "central_url": None}, path)

    assert read_settings_file(path) == {"log_level": "ERROR"}
    assert path.stat().st_ino != inode  # renamed into place, not rewritten in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.toml"]


def test_a_broken_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("log_level = \n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        save_keymap({"fit": "G"}, path)
    assert path.read_text(encoding="utf-8") == "log_level = \n"


def test_values_that_toml_cannot_hold_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot be saved"):
        update_settings_file({"when": object()}, tmp_path / "s.toml")
    assert not (tmp_path / "s.toml").exists()


def test_dumps_round_trips_plain_values() -> None:
    document = {
        "a": 'quote " and \\ and \n newline and é',
        "b": 1.5,
        "c": True,
        "d": [1, 2, "x"],
        "t": {"k": "v", "inner": {"z": 0}},
    }
    assert tomllib.loads(dumps_toml(document)) == document


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "conf" / "settings.toml"
    update_settings_file({"log_level": "INFO"}, path)

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StorageError, match="could not be written"):
        save_keymap({"fit": "G"}, path)
    assert read_settings_file(path) == {"log_level": "INFO"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.toml"]


def test_settings_are_saved_in_one_write_keeping_the_others() -> None:
    path = default_settings_file()
    path.write_text('log_level = "DEBUG"\n\n[keymap]\nfit = "G"\n', encoding="utf-8")

    save_settings(
        {
            "data_dir": Path("/srv/iamedic"),
            "offline_days": 3,
            "central_url": None,
            "keymap": {"play_pause": "K"},
        }
    )

    assert read_settings_file(path) == {
        "log_level": "DEBUG",
        "data_dir": "/srv/iamedic",
        "offline_days": 3,
        "keymap": {"play_pause": "K"},
    }


def test_an_empty_table_removes_it_and_the_text_can_be_put_back() -> None:
    path = default_settings_file()
    assert settings_file_text(path) is None
    save_settings({"keymap": {"fit": "G"}})
    before = settings_file_text(path)
    save_settings({"keymap": {}, "offline_days": 9})
    assert read_settings_file(path) == {"offline_days": 9}

    restore_settings_file(before, path)
    assert read_settings_file(path) == {"keymap": {"fit": "G"}}
    restore_settings_file(None, path)
    assert not path.exists()
