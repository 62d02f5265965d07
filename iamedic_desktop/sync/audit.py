"""The central audit log (revision 0005): checking its hash chain, and listing its entries.

``verify`` recomputes the chain in id order, streaming (constant memory whatever the log's
size), from the stored values alone: it trusts no function of the database, so an entry edited
or deleted by the database owner shows as the first entry that no longer fits. The canonical
text hashed here is the one the trigger hashes (revision 0005's docstring); the tests check that
the two agree on every kind of change.

``list_entries`` reads entries by who made them, which study they touch, table and time.
``identify_connections`` makes a workstation's central connections say which user and device
write through them, so their entries name both.

Threading: blocking; each function runs on the caller's central connection (not in a
transaction: each opens its own).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.errors import CentralDatabaseError, InvalidInputError

GENESIS = "0" * 64
DEFAULT_LIMIT = 100
STREAM_BATCH = 2000
_UNDEFINED_TABLE = "42P01"
_INSUFFICIENT_PRIVILEGE = "42501"
TABLES = (
    "users",
    "user_roles",
    "doctor_profiles",
    "studies",
    "media",
    "frames",
    "picture_classification_predictions",
    "picture_classification_annotations",
    "picture_bb_predictions",
    "picture_bb_annotations",
)

# The canonical text of an entry, as SQL over ``workstation.audit_log`` (revision 0005).
CANONICAL_TEXT = (
    "jsonb_build_array(id, to_char(changed_at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'), login, db_role, application, user_id, device_id, '
    "txid::text, table_name, row_id, op, version, doctor_id, study_id, media_id, old_values, "
    "new_values)::text"
)
_COLUMNS = (
    "id, changed_at, login, db_role, application, user_id, device_id, table_name, row_id, op, "
    "version, doctor_id, study_id, media_id, old_values, new_values, entry_hash"
)


@dataclass(frozen=True)
class VerifyResult:
    """The chain checked: ``ok``, how many entries, the first one that does not fit and why.

    ``last_id``/``last_hash`` name the chain's end; a copy kept elsewhere is an anchor for a
    later check (``verify(..., anchor=...)``).
    """

    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str | None
    last_id: int
    last_hash: str


@dataclass(frozen=True)
class AuditEntry:
    """One change of one row of a web table, as the audit log recorded it."""

    id: int
    changed_at: dt.datetime
    login: str
    db_role: str
    application: str | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None
    table_name: str
    row_id: uuid.UUID
    op: str
    version: int | None
    doctor_id: uuid.UUID | None
    study_id: uuid.UUID | None
    media_id: uuid.UUID | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    entry_hash: str

    @property
    def columns(self) -> list[str]:
        """The columns this entry names: the changed ones for an update, else the row's."""
        return sorted((self.new_values or {}).keys() | (self.old_values or {}).keys())


def identify_connections(engine: Engine, user_id: uuid.UUID, device_id: uuid.UUID) -> None:
    """Every new connection of the central ``engine`` states the user and device it writes for.

    The trigger reads the custom settings ``iamedic.user_id`` and ``iamedic.device_id`` into
    each entry; other writers (the web, psql) leave them unset.
    """

    def _identify(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                "SELECT set_config('iamedic.user_id', %s, false), "
                "set_config('iamedic.device_id', %s, false)",
                (str(user_id), str(device_id)),
            )
        finally:
            cursor.close()
        dbapi_connection.commit()  # a session setting outlives only a committed transaction

    event.listen(engine, "connect", _identify)


def entry_hash(prev_hash: str, canonical: str) -> str:
    """The hash of an entry: sha256 of the previous hash and the entry's canonical text."""
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def verify(conn: Connection, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Recompute the chain in id order; the first entry that does not fit, and why.

    ``anchor`` (an id and the hash it had, kept elsewhere) must still be in the chain.
    """
    with _read(conn):
        head = conn.execute(
            text("SELECT last_id, last_hash FROM workstation.audit_chain_head")
        ).one()
        rows = conn.execute(
            text(
                f"SELECT id, prev_hash, entry_hash, {CANONICAL_TEXT} FROM workstation.audit_log "
                "ORDER BY id"
            ),
            execution_options={"stream_results": True, "yield_per": STREAM_BATCH},
        )
        with closing(rows):
            return _walk(rows, (head[0], head[1]), anchor)


def _walk(
    rows: Iterable[Any], head: tuple[int, str], anchor: tuple[int, str] | None
) -> VerifyResult:
    """The chain check itself, over ``(id, prev_hash, entry_hash, canonical)`` in id order."""
    checked, expected, prev = 0, 1, GENESIS

    def broken(entry: int, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, entry, reason, expected - 1, prev)

    for entry, prev_hash, stored, canonical in rows:
        if entry != expected:
            if entry > expected:
                return broken(expected, f"Entry {expected} is missing.")
            return broken(entry, f"Entry {entry} is out of sequence.")
        if prev_hash != prev:
            return broken(entry, f"Entry {entry} does not follow entry {entry - 1}.")
        if entry_hash(prev_hash, canonical) != stored:
            return broken(entry, f"Entry {entry} was changed after it was written.")
        if anchor is not None and anchor[0] == entry and anchor[1] != stored:
            return broken(entry, f"Entry {entry} no longer has the anchor's hash.")
        checked, expected, prev = checked + 1, entry + 1, stored
    last = expected - 1
    if head[0] > last:
        return broken(last + 1, f"Entries {last + 1} to {head[0]} are missing.")
    if head[0] < last or head[1] != prev:
        return broken(last, f"Entry {last} is not the end the chain's head records.")
    if anchor is not None and anchor[0] > last:
        return broken(anchor[0], f"Entry {anchor[0]} (the anchor) is missing.")
    return VerifyResult(True, checked, None, None, last, prev)


def list_entries(
    conn: Connection,
    *,
    user: uuid.UUID | None = None,
    study: uuid.UUID | None = None,
    table: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries, newest first: made by ``user``, touching ``study``, of ``table``, changed at or
    after ``since`` and before ``until`` (the database server's clock)."""
    if table is not None and table not in TABLES:
        raise InvalidInputError(f"Unknown table {table!r}: choose one of {', '.join(TABLES)}.")
    if limit < 1 or offset < 0:
        raise InvalidInputError("The limit must be at least 1 and the offset not negative.")
    where, params = _filters(user, study, table, since, until)
    with _read(conn):
        rows = conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM workstation.audit_log WHERE {where} "
                "ORDER BY id DESC LIMIT :limit OFFSET :offset"
            ),
            {**params, "limit": limit, "offset": offset},
        )
        return [AuditEntry(*row) for row in rows]


def entry(conn: Connection, entry_id: int) -> AuditEntry | None:
    """One entry by id; None when there is none."""
    with _read(conn):
        row = conn.execute(
            text(f"SELECT {_COLUMNS} FROM workstation.audit_log WHERE id = :i"), {"i": entry_id}
        ).first()
    return AuditEntry(*row) if row is not None else None


def user_emails(conn: Connection, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The e-mail of each user id the central database still holds."""
    wanted = sorted(str(i) for i in ids if i is not None)
    if not wanted:
        return {}
    with _read(conn):
        rows = conn.execute(
            text("SELECT id, email FROM public.users WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": wanted},
        )
        return {user_id: email for user_id, email in rows}


def find_user(conn: Connection, wanted: str) -> uuid.UUID:
    """The user id of an email or an id; a deleted user is found in the log's own entries."""
    as_id = _as_uuid(wanted)
    if as_id is not None:
        return as_id
    with _read(conn):
        found = conn.execute(
            text(
                "SELECT id FROM public.users WHERE lower(email) = lower(:e) UNION "
                "SELECT row_id FROM workstation.audit_log WHERE table_name = 'users' AND "
                "lower(coalesce(new_values, old_values) ->> 'email') = lower(:e)"
            ),
            {"e": wanted},
        ).scalars()
        ids = set(found)
    return _one(
        ids,
        f"No user has the email {wanted}: give the user's id instead.",
        f"Several users have had the email {wanted}: give the user's id instead.",
    )


def find_study(conn: Connection, wanted: str) -> uuid.UUID:
    """The study id of an alias or an id; an alias several doctors use is refused."""
    as_id = _as_uuid(wanted)
    if as_id is not None:
        return as_id
    with _read(conn):
        found = conn.execute(
            text(
                "SELECT id FROM public.studies WHERE alias = :a UNION "
                "SELECT row_id FROM workstation.audit_log WHERE table_name = 'studies' AND "
                "coalesce(new_values, old_values) ->> 'alias' = :a"
            ),
            {"a": wanted},
        ).scalars()
        ids = set(found)
    return _one(
        ids,
        "No study has that alias: give the study's id instead.",
        "Several studies have that alias: give the study's id instead.",
    )


def _filters(
    user: uuid.UUID | None,
    study: uuid.UUID | None,
    table: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> tuple[str, dict[str, Any]]:
    conditions: list[str] = ["true"]
    params: dict[str, Any] = {}
    for name, column, value in (
        ("user", "user_id", user),
        ("study", "study_id", study),
        ("table", "table_name", table),
    ):
        if value is not None:
            conditions.append(f"{column} = :{name}")
            params[name] = value
    if since is not None:
        conditions.append("changed_at >= :since")
        params["since"] = since
    if until is not None:
        conditions.append("changed_at < :until")
        params["until"] = until
    return " AND ".join(conditions), params


@contextmanager
def _read(conn: Connection) -> Iterator[None]:
    """A read-only REPEATABLE READ transaction: the head and the entries of one moment."""
    if conn.in_transaction():
        raise RuntimeError("The audit log is read on a connection outside any transaction.")
    try:
        with conn.begin():
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            yield
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        code = getattr(cause, "pgcode", None)
        if code == _UNDEFINED_TABLE:
            raise CentralDatabaseError(
                "The central database has no audit log yet: run `iamedic central upgrade`."
            ) from exc
        if code == _INSUFFICIENT_PRIVILEGE:
            raise CentralDatabaseError(
                "This login may not read the central audit log: ask the database's owner to "
                "grant it SELECT on workstation.audit_log and workstation.audit_chain_head."
            ) from exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise CentralDatabaseError(f"The central audit log cannot be read: {first}") from exc


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _one(ids: set[uuid.UUID], none: str, several: str) -> uuid.UUID:
    if len(ids) != 1:
        raise InvalidInputError(several if ids else none)
    return next(iter(ids))
