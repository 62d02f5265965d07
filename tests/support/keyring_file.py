"""A real keyring backend over a JSON file, for tests (keyrings.alt is not installed).

Selected in a child process with
``PYTHON_KEYRING_BACKEND=tests.support.keyring_file.FileKeyring`` and
``IAMEDIC_TEST_KEYRING_FILE=<path>``; in-process with ``keyring.set_keyring(FileKeyring(path))``.
Secrets are stored base64-encoded, so a test that greps a folder for a secret does not find it
in the keyring file by accident and can grep the keyring file itself separately.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

KEYRING_FILE_VARIABLE = "IAMEDIC_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    """Secrets as ``{"service": {"user": base64(secret)}}`` in one JSON file."""

    @properties.classproperty
    def priority(cls) -> float:
        # keyring tries every backend class it knows of: this one only where a test asks.
        if KEYRING_FILE_VARIABLE not in os.environ:
            raise RuntimeError(f"{KEYRING_FILE_VARIABLE} is not set")
        return 0.1

    def __init__(self, path: Path | str | None = None) -> None:
        super().__init__()
        self._path = Path(path) if path is not None else None

    @property
    def path(self) -> Path:
        """The JSON file holding the secrets."""
        return self._path or Path(os.environ[KEYRING_FILE_VARIABLE])

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(data), encoding="utf-8")
        temp.replace(self.path)

    def get_password(self, service: str, username: str) -> str | None:
        encoded = self._read().get(service, {}).get(username)
        return base64.b64decode(encoded).decode() if encoded is not None else None

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data.setdefault(service, {})[username] = base64.b64encode(password.encode()).decode()
        self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(f"No secret for {username} in {service}")
        del data[service][username]
        self._write(data)

    def secrets(self) -> list[str]:
        """Every secret held, decoded (for the tests' checks)."""
        return [
            base64.b64decode(value).decode()
            for users in self._read().values()
            for value in users.values()
        ]
