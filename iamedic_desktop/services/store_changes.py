"""Has the store changed since I last looked? SQLite's ``data_version`` on one connection.

``PRAGMA data_version`` answers, in microseconds and without a schema change, whether any
other connection (of this process or another: a CLI import, a second window, the sync) has
committed since the same connection last asked. The watcher keeps one dedicated connection for
it: a pooled connection would not do, as the value means something only on one connection.
That connection never writes, so every commit of the store's own engine counts as a change too;
the window's refresh is therefore built to change nothing on screen when nothing differs.

Threading: one thread at a time (the window's database executor); the connection is opened on
first use, so the watcher can be made anywhere.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from iamedic_desktop.core.errors import StorageError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 2000


class StoreChangeWatcher:
    """Polls one store for commits made by other connections; a version token per change."""

    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        self._connection: sqlite3.Connection | None = None
        self._seen: int | None = None
        self._version = 0

    @property
    def version(self) -> int:
        """How many changes have been seen so far (the token ``poll`` returns)."""
        return self._version

    def poll(self) -> int | None:
        """The new version when the store changed since the last poll (None: no change).

        The first poll only takes the baseline.
        """
        try:
            value = self._data_version()
        except sqlite3.Error as exc:
            # A dropped connection is opened again next time; the change is not lost, as the
            # window refreshes everything it shows when the baseline is taken again.
            self.close()
            raise StorageError(f"The store could not be watched for changes: {exc}") from exc
        if self._seen is None:
            self._seen = value
            return None
        if value == self._seen:
            return None
        self._seen = value
        self._version += 1
        return self._version

    def close(self) -> None:
        """Release the connection (the next poll takes a new baseline)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._seen = None

    def _data_version(self) -> int:
        if self._connection is None:
            # Never writes: query_only guards that; autocommit so no read transaction stays
            # open (an open one would pin the WAL and freeze the value).
            connection = sqlite3.connect(
                str(self._path), isolation_level=None, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA query_only=ON")
            self._connection = connection
        row = self._connection.execute("PRAGMA data_version").fetchone()
        return int(row[0])
