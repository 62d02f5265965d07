"""The ``file_keyring`` fixture: a real keyring backend over a file in the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.support.keyring_file import FileKeyring


@pytest.fixture(name="file_keyring")
def file_keyring_fixture(tmp_path: Path) -> Iterator[FileKeyring]:
    """A real keyring backend in the test's folder (never the machine's own)."""
    previous = keyring.get_keyring()
    backend = FileKeyring(tmp_path / "keyring.json")
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
