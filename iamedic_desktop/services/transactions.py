"""Turning the store's refusals into ConflictError, so a clash reads as a clinician's message."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError
from iamedic_desktop.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def flush_or_conflict(session: Session, message: str) -> None:
    """Send pending writes now; a constraint violation becomes ``ConflictError(message)``.

    Services check the rules first; this catches what another writer did in between. The
    unit of work rolls everything back when the error leaves it.
    """
    try:
        session.flush()
    except IntegrityError as exc:
        log.warning("❌ Refused by the store: %s (%s)", message, exc.orig)
        raise ConflictError(message) from exc


def commit_or_conflict(uow: UnitOfWork, message: str) -> None:
    """Flush and commit the unit of work, with constraint violations as ConflictError."""
    flush_or_conflict(uow.session, message)
    try:
        uow.commit()
    except IntegrityError as exc:
        log.warning("❌ Refused by the store: %s (%s)", message, exc.orig)
        raise ConflictError(message) from exc
