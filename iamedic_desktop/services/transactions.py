"""Turning the store's refusals into domain errors, so a clash reads as a clinician's message.

A constraint violation becomes ConflictError; a store that cannot be written (a full disk, an
I/O error, a lock held too long) becomes StorageError. Either way the unit of work rolls back
everything when the error leaves it, and the caller keeps what it committed before.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError, StorageError
from iamedic_desktop.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
# The messages name things for the person who asked (a media's file name, a study's alias);
# the log names only the constraint, since a name may carry a patient's.

DISK_FULL = "The disk holding the local store is full: nothing of this was saved. Free some space."


def _storage_error(message: str, exc: OperationalError) -> StorageError:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        log.error("❌ The disk holding the local store is full; the transaction was rolled back")
        return StorageError(f"{message} {DISK_FULL}")
    log.error("❌ The local store could not be written (%s)", exc.orig)
    return StorageError(f"{message} The local store could not be written ({exc.orig}).")


def _guarded(step: Callable[[], None], message: str) -> None:
    try:
        step()
    except IntegrityError as exc:
        log.warning("❌ Refused by the store (%s)", exc.orig)
        raise ConflictError(message) from exc
    except OperationalError as exc:
        raise _storage_error(message, exc) from exc


def flush_or_conflict(session: Session, message: str) -> None:
    """Send pending writes now; a constraint violation becomes ``ConflictError(message)``.

    Services check the rules first; this catches what another writer did in between. A store
    that cannot be written (full disk) becomes ``StorageError``.
    """
    _guarded(session.flush, message)


def commit_or_conflict(uow: UnitOfWork, message: str) -> None:
    """Flush and commit the unit of work, with constraint violations as ConflictError."""
    flush_or_conflict(uow.session, message)
    _guarded(uow.commit, message)
