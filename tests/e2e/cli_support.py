"""What the CLI tests share: the JSON a command printed, a clean refusal, and the CLI's own
store filled directly for commands that act on media."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import open_local_store


def store_media(path: Path, mime: str) -> str:
    """A study in the CLI's own store holding ``path`` as a media row; returns the media id."""
    from iamedic_desktop.services.media_records import create_media
    from iamedic_desktop.services.studies import create_study

    store = open_local_store(get_settings())
    try:
        study = create_study(store.uow, store.actor, f"Study {uuid.uuid4().hex[:6]}")
        stored = store.media.copy_in(path)
        media = create_media(
            store.uow,
            store.actor,
            study.id,
            filename=path.name,
            file_path=stored.key,
            file_size=stored.size,
            mime_type=mime,
        )
    finally:
        store.close()
    return str(media.id)


def json_of(result: subprocess.CompletedProcess[str], code: int = 0) -> dict:
    """The JSON a command printed, once it exited with ``code``."""
    assert result.returncode == code, result.stderr
    return json.loads(result.stdout)


def assert_clean_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Refused as the README promises: exit 1, one ``❌`` line, no traceback, nothing printed."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("❌ "), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def spawn_on_terminal(
    args: list[str], stdout: int = subprocess.PIPE
) -> tuple[subprocess.Popen[bytes], int]:
    """``iamedic ARGS`` with stderr on a terminal, so it shows its progress line as a user sees
    it; the process and the terminal's reading end (the caller closes it)."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "iamedic_desktop", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=slave,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    os.close(slave)
    return process, master
