"""What the audit browser asks the central audit log, run on a worker at the admin's target.

``fetch_page`` reads one page of ``sync.audit.list_entries`` (one entry more than shown, to
know whether another page follows) and the e-mails of the users it names; ``check_chain``
runs ``sync.audit.verify`` and reads the first broken entry. Both go through the admin's central
connection (``services.admin_target``); with this workstation as the target they say the log is
on the central database. Checking the chain needs a login that sees every entry: a login that
row-level security limits is told so rather than shown a chain "broken" by what it cannot see.

Threading: these functions block and run in an operation, never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import text

from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.services.admin_access import central_engine
from iamedic_desktop.services.admin_target import AdminTarget
from iamedic_desktop.sync import audit

PAGE_SIZE = 100
NOT_CENTRAL = (
    "The audit log is kept on the central database, which is not in use here: configure it in "
    "Settings… > Central database, or check that it is reachable."
)
PARTIAL_VIEW = (
    "This login sees only part of the audit log, so the chain cannot be checked here: run "
    "iamedic central audit verify with the database owner's login."
)


@dataclass(frozen=True)
class AuditQuery:
    """The browser's filters as typed (user and study as an e-mail, alias or id) and its page."""

    user: str | None = None
    study: str | None = None
    table: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    offset: int = 0
    limit: int = PAGE_SIZE

    def page(self, offset: int) -> AuditQuery:
        """The same filters at another offset."""
        return replace(self, offset=max(0, offset))


@dataclass(frozen=True)
class AuditPage:
    """Entries newest first, the e-mails of the users they name, and whether more follow."""

    query: AuditQuery
    entries: list[audit.AuditEntry]
    emails: dict[uuid.UUID, str]
    more: bool


@dataclass(frozen=True)
class ChainCheck:
    """The chain's check and, when it is broken, the first entry that does not fit."""

    result: audit.VerifyResult
    broken: audit.AuditEntry | None

    def summary(self) -> str:
        """One sentence for the browser."""
        result = self.result
        if result.ok:
            return f"Chain intact: {result.checked} entries checked (last entry {result.last_id})."
        return (
            f"Chain broken at entry {result.first_broken_id}: {result.reason} "
            f"{result.checked} entries before it are intact."
        )


def fetch_page(query: AuditQuery, target: AdminTarget) -> AuditPage:
    """One page of entries the filters select."""
    engine = central_engine(target, NOT_CENTRAL)
    with engine.connect() as conn:
        user = audit.find_user(conn, query.user) if query.user else None
        study = audit.find_study(conn, query.study) if query.study else None
        found = audit.list_entries(
            conn,
            user=user,
            study=study,
            table=query.table,
            since=query.since,
            until=query.until,
            limit=query.limit + 1,
            offset=query.offset,
        )
        shown = found[: query.limit]
        emails = audit.user_emails(conn, {e.user_id for e in shown})
    return AuditPage(query, shown, emails, more=len(found) > query.limit)


def check_chain(target: AdminTarget) -> ChainCheck:
    """Recompute the whole chain; refused for a login that sees only part of the log."""
    engine = central_engine(target, NOT_CENTRAL)
    with engine.connect() as conn:
        with conn.begin():
            limited = conn.execute(
                text(
                    "SELECT CASE WHEN to_regclass('workstation.audit_log') IS NOT NULL "
                    "THEN row_security_active('workstation.audit_log') END"
                )
            ).scalar()
        if limited:
            raise CentralDatabaseError(PARTIAL_VIEW)
        result = audit.verify(conn)
        broken = None
        if result.first_broken_id is not None:
            broken = audit.entry(conn, result.first_broken_id)
    return ChainCheck(result, broken)
