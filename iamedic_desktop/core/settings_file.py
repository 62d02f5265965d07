"""Writing the settings file: update some keys of the TOML file, keep every other one.

The file is read with ``tomllib`` and written whole again: to a temporary file beside it,
flushed and synced, then renamed over the old one, so a crash leaves the old file or the new
one, never half of either. Comments in the file are not kept (the TOML reader drops them); the
values are. Only plain values are written: strings, numbers, booleans, lists of them, and
tables of those.

Threading: file I/O; call it from a worker (the window runs it on its database runner).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.settings import default_settings_file

log = logging.getLogger(__name__)

KEYMAP_TABLE = "keymap"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    # JSON's string escapes (\" \\ \n \uXXXX) are valid in TOML basic strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise InvalidInputError(f"A setting of type {type(value).__name__} cannot be saved.")


def _table_lines(prefix: str, table: Mapping[str, Any]) -> list[str]:
    lines = [f"{_key(k)} = {_value(v)}" for k, v in table.items() if not isinstance(v, Mapping)]
    for name, sub in table.items():
        if isinstance(sub, Mapping):
            path = f"{prefix}.{_key(name)}" if prefix else _key(name)
            lines += ["", f"[{path}]", *_table_lines(path, sub)]
    return lines


def dumps_toml(document: Mapping[str, Any]) -> str:
    """``document`` as TOML text: top-level keys first, then one ``[table]`` per mapping."""
    lines = _table_lines("", document)
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines) + "\n"


def read_settings_file(path: Path | None = None) -> dict[str, Any]:
    """The settings file as a dictionary (empty when there is no file)."""
    target = path or default_settings_file()
    try:
        with target.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"The settings file {target} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise StorageError(f"The settings file {target} could not be read: {exc}") from exc


def write_settings_file(document: Mapping[str, Any], path: Path | None = None) -> Path:
    """Replace the settings file by ``document``: temp file, fsync, rename."""
    target = path or default_settings_file()
    text = dumps_toml(document)
    tomllib.loads(text)  # never write a file the reader would refuse
    return _replace_file(target, text)


def settings_file_text(path: Path | None = None) -> str | None:
    """The settings file's text as it is (None when there is none), to restore it later."""
    target = path or default_settings_file()
    try:
        return target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"The settings file {target} could not be read: {exc}") from exc


def restore_settings_file(text: str | None, path: Path | None = None) -> None:
    """Put back the text ``settings_file_text`` returned (None: there was no file)."""
    target = path or default_settings_file()
    if text is None:
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"The settings file {target} could not be removed: {exc}") from exc
        return
    _replace_file(target, text)


def _replace_file(target: Path, text: str) -> Path:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(f"The settings file {target} could not be written: {exc}") from exc
    return target


def update_settings_file(updates: Mapping[str, Any], path: Path | None = None) -> Path:
    """Set some top-level keys of the settings file (a ``None`` value removes the key)."""
    document = read_settings_file(path)
    for key, value in updates.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return write_settings_file(document, path)


def plain_setting(value: Any) -> Any:
    """A setting's value as the file keeps it: paths as text, tables as dictionaries."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain_setting(v) for k, v in value.items()} or None
    return value


def save_settings(values: Mapping[str, Any], path: Path | None = None) -> Path:
    """Set the given settings in one atomic write (``None`` or an empty table removes a key)."""
    written = update_settings_file({k: plain_setting(v) for k, v in values.items()}, path)
    # The names only: a value may be a client secret, never to be logged.
    log.info("✅ Settings saved to %s (%s)", written, ", ".join(sorted(values)))
    return written


def save_keymap(overrides: Mapping[str, str], path: Path | None = None) -> Path:
    """Store the user's shortcuts as the ``[keymap]`` table; an empty map removes the table."""
    table = {str(k): str(v) for k, v in sorted(overrides.items())}
    written = update_settings_file({KEYMAP_TABLE: table or None}, path)
    log.info("✅ Keymap saved to %s (%d changed shortcut(s))", written, len(table))
    return written
