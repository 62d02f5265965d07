"""End-to-end: the real ``iamedic`` command in a subprocess, on the isolated home."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before pytest-qt creates the QApplication (the window path is exercised in-process).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CLI_TIMEOUT_S = 120

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(isolated_home: Path) -> CliRunner:
    """Runs ``python -m iamedic_desktop ARGS`` with the test's data, cache and settings."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {
            **os.environ,  # isolated_home has set IAMEDIC_DATA_DIR, HOME and friends here
            "PYTHONIOENCODING": "utf-8",
            # Never the machine's own keyring: no password is stored for tests.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "iamedic_desktop", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=full_env,
            stdin=subprocess.DEVNULL,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )

    return run


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    """For in-process ``main()`` calls: their log handlers are closed afterwards."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
