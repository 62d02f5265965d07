"""Kill the window's process mid-session (SIGKILL, right after the last edit is on screen),
restart it on the same data folder and find every edit in the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import Settings
from tests.e2e.window_fixtures import (  # noqa: F401  (fixtures, used by name)
    isolated_qsettings_fixture,
    seeded_fixture,
    seeded_template_fixture,
)
from tests.e2e.window_session import Seeded

pytestmark = [pytest.mark.gui, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SESSION_TIMEOUT_S = 180


def _driver(mode: str, data: Seeded, qsettings: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,  # the isolated home, data and settings of this test
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(REPO),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        # QSettings of the child in this test's folder (XDG_CONFIG_HOME is read by Qt).
        "XDG_CONFIG_HOME": str(qsettings / "child"),
    }
    ids = json.dumps({"study": str(data.study_id), "cine": str(data.cine.id)})
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.window_driver", mode, ids],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )


def _read_lines_until(proc: subprocess.Popen[str], last: str) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + SESSION_TIMEOUT_S
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(last) or time.monotonic() > deadline:
            break
    return lines


def test_every_edit_seen_on_screen_survives_a_kill_and_a_restart(
    seeded: tuple[Settings, Seeded], isolated_qsettings: Path
) -> None:
    _settings, data = seeded
    editing = _driver("edit", data, isolated_qsettings)
    try:
        lines = _read_lines_until(editing, "LAST")
        # Killed the moment the last edit is on screen: no closeEvent, no flush, no goodbye.
        editing.send_signal(signal.SIGKILL)
    finally:
        editing.kill()
        _, errors = editing.communicate(timeout=30)
    assert lines[-1:] == ["LAST"], f"the session stopped early: {lines}\n{errors[-3000:]}"
    assert [line.split()[1] for line in lines if line.startswith("EDIT")] == list("12345")
    assert editing.returncode == -signal.SIGKILL

    checking = _driver("check", data, isolated_qsettings)
    out, errors = checking.communicate(timeout=SESSION_TIMEOUT_S)
    assert checking.returncode == 0, errors[-3000:]
    report = json.loads(next(line for line in out.splitlines() if line.startswith("STORE "))[6:])

    assert report["reopened_study"] == str(data.study_id)  # the last study, re-opened
    assert report["stills"] == {
        "5": {"useful": 1, "boxes": {"CM": [33.0, 20.0, 100.0, 80.0]}},
        "12": {"useful": None, "boxes": {"NT": [70.0, 55.0, 40.0, 40.0]}},
    }
