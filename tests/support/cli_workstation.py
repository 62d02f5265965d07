"""A workstation driven through the real ``iamedic`` command, one process per command, as a
person at a terminal (or a script) drives it: its own data folder, the central database and the
web's media folder given in the environment.

The store is signed in beforehand (``sync_world.sign_in_store``): the sign-in flow itself is
tested elsewhere. No keyring is used (the test PostgreSQL trusts local connections).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iamedic_desktop.core.settings import Settings
from tests.support.sync_world import sign_in_store, workstation_settings

TIMEOUT_S = 120


@dataclass(frozen=True)
class CliWorkstation:
    """One workstation's data folder and the environment its commands run with."""

    name: str
    settings: Settings
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m iamedic_desktop ARGS`` in a new process; fails the test on an error."""
        result = subprocess.run(
            [sys.executable, "-m", "iamedic_desktop", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=self.env,
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, (self.name, args, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        """The JSON a command printed with ``--json``."""
        return json.loads(self.run(*args, "--json").stdout)


def cli_workstation(
    name: str, folder: Path, central_url: str, email: str, web_folder: Path | None = None
) -> CliWorkstation:
    """A signed-in workstation in ``folder`` whose commands sync with ``central_url``; pulled
    media files are fetched right after each pull (``fetch_media = eager``)."""
    more: dict[str, Any] = {"central_media_dir": web_folder} if web_folder else {}
    settings = workstation_settings(folder / "data", central_url, fetch_media="eager", **more)
    sign_in_store(settings, email)
    env = {
        **os.environ,
        "IAMEDIC_DATA_DIR": str(folder / "data"),
        "IAMEDIC_CACHE_DIR": str(folder / "cache"),
        "IAMEDIC_SETTINGS_FILE": str(folder / "settings.toml"),
        "IAMEDIC_CENTRAL_URL": central_url,
        "IAMEDIC_FETCH_MEDIA": "eager",
        "PYTHONIOENCODING": "utf-8",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    if web_folder is not None:
        env["IAMEDIC_CENTRAL_MEDIA_DIR"] = str(web_folder)
    return CliWorkstation(name, settings, env)
