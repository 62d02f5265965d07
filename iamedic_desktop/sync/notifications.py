"""Learning within a second that something changed centrally: LISTEN on the change channel.

Since central revision 0004 every change feed entry also sends
``pg_notify('workstation_changes', <the row's doctor id as text, or ''>)``. PostgreSQL delivers
it when the writing transaction commits (never for a rolled-back one) and folds identical ones
of one transaction: a 10,000-row statement of one doctor is one notification. A notification
carries no row data; the change feed (``central_feed.read_changes``) stays the one source of
what changed, so a notification missed while offline or between two listeners costs nothing:
the next pull reads it from the feed.

A ``ChangeListener`` holds one connection of its own, in autocommit (so notifications arrive
while it waits, never held back by an open transaction), listening on the channel. It is never
handed back to the engine's pool: ``close`` discards it. A lost connection closes the listener
and raises ``CentralDatabaseError``; the caller opens a new listener (with backoff) and pulls
once, for what it may have missed. A network path that drops without a word is noticed only when
TCP gives up, so the sync loop keeps pulling at its regular interval: a notification brings the
next pull forward, it never replaces it.

Threading: blocking calls; use a listener on one worker thread (the sync loop), never on the UI
thread, and close it on that thread. To stop the loop, wait with a short timeout and check a
stop flag between waits.
"""

from __future__ import annotations

import logging
import select
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, cast

import psycopg2
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from iamedic_desktop.core.errors import CentralDatabaseError

log = logging.getLogger(__name__)

# The channel revision 0004's record_change() notifies.
CHANNEL = "workstation_changes"


class ChangeListener:
    """One connection listening for central changes; ``wait`` returns the payloads notified."""

    def __init__(self, engine: Engine) -> None:
        self._password = engine.url.password
        try:
            pooled = engine.raw_connection()
        except (SQLAlchemyError, psycopg2.Error) as exc:  # the pool does not wrap driver errors
            raise CentralDatabaseError(
                f"The central database cannot be reached to listen for changes: {self._reason(exc)}"
            ) from exc
        self._pooled: PoolProxiedConnection | None = pooled
        # psycopg2's own connection: fileno() for select, poll() and the notifies list.
        self._conn: Any = cast(Any, pooled.dbapi_connection)
        try:
            self._conn.autocommit = True
            with self._conn.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
        except psycopg2.Error as exc:
            raise self._lost(exc) from exc
        log.info("🔄 Listening for central changes")

    def wait(self, timeout: float) -> set[str]:
        """The payloads notified (doctor ids, '' for none) since the last call, waiting up to
        ``timeout`` seconds for the first; an empty set when nothing came in that time."""
        if self._pooled is None:
            raise CentralDatabaseError("This change listener is closed: open a new one.")
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            received = self._drain()
            remaining = deadline - time.monotonic()
            if received or remaining <= 0:
                return received
            try:
                select.select([self._conn], [], [], remaining)
            except (OSError, ValueError) as exc:  # the socket itself is gone
                raise self._lost(exc) from exc

    def close(self) -> None:
        """Stop listening: the connection is closed, not returned to the pool. Idempotent."""
        pooled, self._pooled = self._pooled, None
        if pooled is None:
            return
        pooled.invalidate()  # closes the connection; the pool opens a fresh one when asked
        pooled.close()

    def __enter__(self) -> ChangeListener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _drain(self) -> set[str]:
        """Read what the server sent, without blocking, and take the notifications out."""
        try:
            self._conn.poll()
        except psycopg2.Error as exc:
            raise self._lost(exc) from exc
        received = {notify.payload for notify in self._conn.notifies}
        del self._conn.notifies[:]
        return received

    def _lost(self, exc: BaseException) -> CentralDatabaseError:
        """Close this listener and say why; the caller opens a new one."""
        self.close()
        log.warning("⚠️ The connection listening for central changes was lost")
        return CentralDatabaseError(
            "The connection listening for central changes was lost "
            f"({self._reason(exc)}): listen again once the central database answers."
        )

    def _reason(self, exc: BaseException) -> str:
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        first = lines[0] if lines else exc.__class__.__name__
        return first.replace(self._password, "***") if self._password else first


def listen_for(doctor_id: uuid.UUID | None, is_admin: bool) -> Callable[[str], bool]:
    """Whether a payload concerns this workstation's user: their own doctor id; for an admin,
    every payload (users, roles and profiles of everyone flow to admins, and a row without a
    doctor, '', may be one of theirs to see)."""
    if is_admin:
        return lambda _payload: True
    own = str(doctor_id) if doctor_id is not None else None
    return lambda payload: payload == own
