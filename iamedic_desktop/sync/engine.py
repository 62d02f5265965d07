"""One sync: register the device, pull, push, and keep what happened for the status and panel.

The engine is Qt-free and blocking: the CLI calls it directly, the window through the sync
worker (``sync/runner.py``). A failure is recorded in ``sync_errors`` (last 50 kept) and raised
as one clear message; nothing local is lost by it, since every step commits by batch.

Threading: one sync at a time per store (``run`` holds a lock); never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.errors import CentralDatabaseError, IamedicError, StorageError, SyncError
from iamedic_desktop.models import SyncConflict, SyncErrorEntry
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.sync import devices
from iamedic_desktop.sync import local_side as ls
from iamedic_desktop.sync.pull import CURSOR, PullReport, pull
from iamedic_desktop.sync.push import PushReport, push
from iamedic_desktop.sync.push_files import FileSender
from iamedic_desktop.sync.scope import Scope

log = logging.getLogger(__name__)
LAST_SYNC = "last_sync_at"
STARTED = "last_sync_started_at"
_KEPT_ERRORS = 50
_lock = threading.Lock()


@dataclass
class SyncReport:
    """What one sync did."""

    pulled: PullReport = field(default_factory=PullReport)
    pushed: PushReport = field(default_factory=PushReport)
    seconds: float = 0.0

    @property
    def conflicts(self) -> int:
        """Conflicts found by this sync."""
        return self.pulled.conflicts + self.pushed.conflicts

    @property
    def changed_tables(self) -> set[str]:
        """Local tables this sync changed (views showing them refresh)."""
        return self.pulled.tables | self.pushed.tables


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar and ``iamedic sync status`` show."""

    pending: int
    conflicts: int
    last_sync_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    has_cursor: bool


class SyncEngine:
    """Syncs one local store with the central database for one signed-in user."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        central: Engine,
        files: FileSender,
        scope: Scope,
        device_id: uuid.UUID,
        *,
        batch: int = 2000,
        after_pull: Callable[[PullReport], None] | None = None,
        explain: Callable[[str], str | None] = lambda _message: None,
    ) -> None:
        self.explain = explain  # the driver's refusal in a person's words (revoked login, TLS)
        self.batch = batch
        self.after_pull = after_pull  # e.g. fetch the pulled media's files (eager setting)
        self.uow = uow_factory
        self.central = central
        self.files = files
        self.scope = scope
        self.device_id = device_id

    def run(
        self,
        *,
        do_pull: bool = True,
        do_push: bool = True,
        checkpoint: Callable[[str], None] = lambda _point: None,
    ) -> SyncReport:
        """Pull then push (or one of them); record the outcome. Raises SyncError,
        CentralDatabaseError and StorageError (the local store refused a write) with a message
        for a person. ``checkpoint`` (see ``push``)."""
        report = SyncReport()
        started = utcnow()
        with _lock:
            try:
                self._mark_started(started)
                self._register()
                if do_pull:
                    report.pulled = pull(self.uow, self.central, self.scope,
                                         batch=self.batch, checkpoint=checkpoint)  # fmt: skip
                    if self.after_pull is not None:
                        self.after_pull(report.pulled)
                if do_push:
                    report.pushed = push(self.uow, self.central, self.files, self.scope,
                                         batch=self.batch, checkpoint=checkpoint)  # fmt: skip
                self._finish(started)
            except SQLAlchemyError as exc:
                explained = self.explain(str(getattr(exc, "orig", None) or exc))
                error = _local_error(exc) or CentralDatabaseError(
                    f"The sync stopped: {explained or _reason(exc)}"
                )
                self.record_error(error.message)
                raise error from exc
            except IamedicError as exc:
                self.record_error(exc.message)
                raise
        report.seconds = (utcnow() - started).total_seconds()
        log.info(
            "🔄 Sync done in %.2f s: %d pulled, %d pushed, %d conflict(s), %d waiting",
            report.seconds,
            report.pulled.applied,
            report.pushed.written + report.pushed.deleted,
            report.conflicts,
            report.pushed.held,
        )
        return report

    def _mark_started(self, started: dt.datetime) -> None:
        """A first local write: a store that cannot be written stops the sync before anything
        is sent whose agreement could not be recorded."""
        with self.uow() as uow:
            ls.set_state(uow.session, STARTED, started.isoformat())
            uow.commit()

    def _register(self) -> None:
        with self.central.connect() as conn:
            devices.register(conn, self.device_id, platform.node() or "workstation",
                             self.scope.user_id)  # fmt: skip

    def _finish(self, started: dt.datetime) -> None:
        with self.uow() as uow:
            uow.begin_write()
            ls.set_state(uow.session, LAST_SYNC, started.isoformat())
            cursor = ls.get_state(uow.session, CURSOR)
            uow.commit()
        if cursor is not None:
            with self.central.connect() as conn:
                devices.save_cursor(conn, self.device_id, cursor)

    def record_error(self, message: str) -> None:
        """Keep a failed sync's reason for the panel (the newest ones)."""
        log.error("❌ Sync failed: %s", message)
        try:
            with self.uow() as uow:
                uow.begin_write()
                session = uow.session
                session.execute(insert(SyncErrorEntry).values(message=message, at=utcnow()))
                newest = select(SyncErrorEntry.id).order_by(SyncErrorEntry.id.desc())
                session.execute(
                    delete(SyncErrorEntry).where(
                        SyncErrorEntry.id.not_in(newest.limit(_KEPT_ERRORS).scalar_subquery())
                    )
                )
                uow.commit()
        except (IamedicError, SQLAlchemyError):  # a full or read-only store, say
            log.warning("⚠️ The sync error could not be recorded in the local store")


def sync_status(uow_factory: UnitOfWorkFactory) -> SyncStatus:
    """The store's sync state: pending rows, open conflicts, last sync and last error."""
    with uow_factory() as uow:
        session = uow.session
        last = ls.get_state(session, LAST_SYNC)
        error = session.execute(
            select(SyncErrorEntry.message, SyncErrorEntry.at).order_by(SyncErrorEntry.id.desc())
        ).first()
        conflicts = session.scalar(
            select(func.count()).select_from(SyncConflict).where(SyncConflict.resolved_at.is_(None))
        )
        last_at = dt.datetime.fromisoformat(last) if last else None
        if error is not None and last_at is not None and error[1] < last_at:
            error = None  # a sync succeeded since
        return SyncStatus(
            pending=ls.pending_count(session),
            conflicts=conflicts or 0,
            last_sync_at=last_at,
            last_error=error[0] if error else None,
            last_error_at=error[1] if error else None,
            has_cursor=ls.get_state(session, CURSOR) is not None,
        )


def recent_errors(uow_factory: UnitOfWorkFactory, limit: int = 20) -> list[tuple[dt.datetime, str]]:
    """The newest sync errors, newest first."""
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(SyncErrorEntry.at, SyncErrorEntry.message)
            .order_by(SyncErrorEntry.id.desc())
            .limit(limit)
        )
        return [(at, message) for at, message in rows]


def _local_error(exc: SQLAlchemyError) -> StorageError | None:
    """The local store's refusal (a full disk, a read-only store) named as such; None for an
    error of the central database."""
    cause = getattr(exc, "orig", None)
    if not isinstance(cause, sqlite3.Error):
        return None
    code = (getattr(cause, "sqlite_errorcode", None) or 0) & 0xFF
    if code == sqlite3.SQLITE_FULL:
        what = "the disk holding the local store is full; free some space"
    elif code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN):
        what = "the local store cannot be written (it is read-only); make its folder writable"
    else:
        what = f"the local store cannot be written ({cause}); check the disk holding it"
    return StorageError(f"The sync stopped: {what}, then sync again.")


def _reason(exc: SQLAlchemyError) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    first = lines[0] if lines else type(cause).__name__
    return f"the central database did not answer ({first})"


__all__ = ["SyncEngine", "SyncError", "SyncReport", "SyncStatus", "recent_errors", "sync_status"]
