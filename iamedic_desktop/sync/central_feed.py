"""Reading the central change feed since a cursor: nothing missed, nothing twice.

A cursor is a PostgreSQL snapshot (``pg_current_snapshot()`` as text) taken in the same
REPEATABLE READ transaction as the read. The next read returns the entries whose transaction
was not visible in that snapshot: a transaction still running when the cursor was taken is
returned once it has committed, however long after later ones, which a timestamp or a sequence
number alone would miss. When a read stops at ``limit``, the cursor also says where in the
batch it stopped (``<previous>|<snapshot>|<last id>``), and the next read finishes that batch
before it starts a new one. Cursors are opaque to callers: store and pass back what is returned.

No cursor means every entry in the feed; rows that were there before the feed was installed
have none, so a new device loads the tables inside ``consistent_read`` and keeps its cursor.

Threading: plain blocking calls on a SQLAlchemy connection that is not in a transaction; run
them on a worker, never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.errors import CentralDatabaseError, SyncError

DEFAULT_LIMIT = 1000
# A snapshot in which no transaction is visible: "no cursor" once a first batch is paged.
_BEFORE_ALL = "1:1:"
_SNAPSHOT = r"\d+:\d+:[\d,]*"
_CURSOR = re.compile(
    rf"^(?:(?P<full>{_SNAPSHOT})|(?P<prev>{_SNAPSHOT})\|(?P<upto>{_SNAPSHOT})"
    r"\|(?P<after>\d+))$"
)
_COLUMNS = (
    "f.id, f.txid::text::bigint, f.table_name, f.row_id, f.op, f.version, f.doctor_id, "
    "f.study_id, f.media_id, f.row_data, f.changed_at"
)


@dataclass(frozen=True)
class Change:
    """One insert (I), update (U) or delete (D) of a central row, as the trigger recorded it."""

    id: int
    txid: int
    table: str
    row_id: uuid.UUID
    op: str
    version: int
    doctor_id: uuid.UUID | None
    study_id: uuid.UUID | None
    media_id: uuid.UUID | None
    row: dict[str, Any]  # the new row for I and U, the deleted row for D, as JSON
    changed_at: dt.datetime


@contextmanager
def consistent_read(connection: Connection) -> Iterator[str]:
    """A read-only REPEATABLE READ transaction; yields the cursor its reads are consistent with.

    A full load done inside sees exactly the changes up to the cursor, and ``read_changes``
    from that cursor returns exactly the ones after it.
    """
    try:
        with connection.begin():
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
            yield snapshot
    except SQLAlchemyError as exc:
        raise CentralDatabaseError(
            f"The central change feed cannot be read: {_reason(exc)}"
        ) from exc


def read_changes(
    connection: Connection,
    cursor: str | None,
    *,
    doctor_id: uuid.UUID | None = None,
    also_tables: frozenset[str] = frozenset(),
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[Change], str]:
    """The changes after ``cursor`` (all, or one doctor's), oldest entry first, and the new cursor.

    With ``doctor_id``, only that doctor's changes, plus every change of ``also_tables`` (an
    admin's users, roles and profiles). Fewer than ``limit`` changes means the reader has
    caught up: the cursor returned is then this read's snapshot.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    where, old, params = _batch(_parse(cursor))
    if doctor_id is not None:
        also = "OR f.table_name = ANY(:also)" if also_tables else ""
        where = f"({where}) AND (f.doctor_id = :doctor {also})"
        params["doctor"] = doctor_id
        params["also"] = sorted(also_tables)
    with consistent_read(connection) as snapshot:
        # The rest of an interrupted batch (old) first, then what committed since its snapshot.
        rows = connection.execute(
            text(
                f"SELECT {_COLUMNS}, {old} AS old FROM workstation.change_feed f "
                f"WHERE {where} ORDER BY old DESC, f.id LIMIT :limit"
            ),
            {**params, "limit": limit + 1},
        ).all()
    changes = [Change(*row[:-1]) for row in rows[:limit]]
    if len(rows) <= limit:
        return changes, snapshot
    # Stopped inside a batch: the next read resumes after the last entry returned.
    last_was_old = rows[limit - 1][-1]
    if last_was_old:
        return changes, f"{params['prev']}|{params['upto']}|{changes[-1].id}"
    return changes, f"{params['upto']}|{snapshot}|{changes[-1].id}"


def current_versions(
    connection: Connection, table: str, row_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The current version of each row of ``table`` (rows never changed since install: 1)."""
    rows = connection.execute(
        text(
            "SELECT row_id, version FROM workstation.row_versions "
            "WHERE table_name = :t AND row_id = ANY(:ids)"
        ),
        {"t": table, "ids": row_ids},
    )
    return {row_id: version for row_id, version in rows}


def _parse(cursor: str | None) -> dict[str, str]:
    if cursor is None:
        return {}
    match = _CURSOR.match(cursor)
    if match is None:
        raise SyncError(
            "This workstation's sync position is damaged; its studies will be loaded again "
            "from the central database."
        )
    return {key: value for key, value in match.groupdict().items() if value is not None}


def _batch(parsed: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """The condition of the entries to read, the expression marking those of an interrupted
    batch (they come first), and the parameters; ``upto`` is the snapshot read so far."""
    if not parsed:
        return "true", "false", {"upto": _BEFORE_ALL}
    if "full" in parsed:
        return _new_since("upto"), "false", {"upto": parsed["full"]}
    old = "pg_visible_in_snapshot(f.txid, CAST(:upto AS pg_snapshot))"
    condition = f"({_new_since('prev')} AND {old} AND f.id > :after) OR {_new_since('upto')}"
    params = {"prev": parsed["prev"], "upto": parsed["upto"], "after": int(parsed["after"])}
    return condition, old, params


def _new_since(name: str) -> str:
    """Entries whose transaction was not visible in the snapshot ``:name``."""
    snapshot = f"CAST(:{name} AS pg_snapshot)"
    return (
        f"f.txid >= pg_snapshot_xmin({snapshot}) AND NOT pg_visible_in_snapshot(f.txid, {snapshot})"
    )


def _reason(exc: SQLAlchemyError) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__
