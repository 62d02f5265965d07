"""Pull: the central changes since this workstation's cursor, applied to the local store.

Each batch of changes is applied in one local transaction together with the cursor that follows
it, so a kill at any point leaves the store at a batch boundary and the next pull goes on from
there. A change to a row with pending local edits goes through ``merge.decide``; a change this
workstation already holds (its own push coming back, or a batch applied twice) is skipped by its
version. A first pull (or a new user on the store) loads the tables in scope inside one
consistent central read and keeps the cursor that read yields.

Threading: blocking; runs on the sync worker, never on the UI thread; a helper thread of the
pull's own reads the next batch of the feed while one is applied (checkpoints stay on the caller).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.sync import local_side as ls
from iamedic_desktop.sync.central_feed import Change, consistent_read, read_changes
from iamedic_desktop.sync.merge import Verdict, decide, reason
from iamedic_desktop.sync.rows import NATURAL_KEYS, TABLE_ORDER, central_json, from_central
from iamedic_desktop.sync.scope import Scope

log = logging.getLogger(__name__)
BATCH = 2000
CURSOR = "cursor"
SCOPE_USER = "scope_user"


@dataclass
class PullReport:
    """What a pull did."""

    applied: int = 0
    skipped: int = 0
    conflicts: int = 0
    loaded: bool = False  # a full load was done
    tables: set[str] = field(default_factory=set)


@dataclass
class Incoming:
    """One central row state to apply: the row as central holds it (or held it, when deleted)."""

    table: str
    row_id: uuid.UUID
    data: dict[str, Any]
    deleted: bool
    version: int

    @property
    def row(self) -> dict[str, Any] | None:
        """The central row, None when it was deleted."""
        return None if self.deleted else self.data


def pull(
    uow_factory: UnitOfWorkFactory,
    central: Engine,
    scope: Scope,
    *,
    batch: int = BATCH,
    checkpoint: Callable[[str], None] = lambda _point: None,
) -> PullReport:
    """Apply every central change in scope since the cursor; load everything when there is none.

    ``checkpoint(point)`` is called before and after each batch is applied (fault tests kill
    the process there).
    """
    report = PullReport()
    with uow_factory() as uow:
        cursor = ls.get_state(uow.session, CURSOR)
        if ls.get_state(uow.session, SCOPE_USER) != str(scope.user_id):
            cursor = None
    if cursor is None:
        cursor = _load(uow_factory, central, scope, report, batch, checkpoint)
    # The next batch is read from the feed while this one is applied (the cursor is only
    # stored with a batch applied, so a batch read ahead and never applied is read again).
    with ThreadPoolExecutor(1, thread_name_prefix="sync-pull") as reader:
        ahead = reader.submit(_read_feed, central, scope, cursor, batch)
        while True:
            try:
                changes, next_cursor = ahead.result()
            except (CentralDatabaseError, SQLAlchemyError):  # the database went away meanwhile:
                changes, next_cursor = _read_feed(central, scope, cursor, batch)  # read it here
            if not changes:
                return report  # caught up: the cursor stays (nothing is written locally)
            if len(changes) == batch:
                ahead = reader.submit(_read_feed, central, scope, next_cursor, batch)
            incoming = _net(
                [Incoming(c.table, c.row_id, c.row, c.op == "D", c.version) for c in changes]
            )
            checkpoint("pull:before-apply")
            _apply(uow_factory, incoming, next_cursor, scope, report, final=len(changes) < batch)
            checkpoint("pull:applied")
            cursor = next_cursor
            if len(changes) < batch:
                return report


def _read_feed(
    central: Engine, scope: Scope, cursor: str | None, batch: int
) -> tuple[list[Change], str]:
    """The next batch of the feed in scope after ``cursor``, and the cursor after it."""
    with central.connect() as conn:
        return read_changes(
            conn, cursor, doctor_id=scope.user_id, also_tables=scope.all_rows_of, limit=batch
        )


def _load(
    uow_factory: UnitOfWorkFactory,
    central: Engine,
    scope: Scope,
    report: PullReport,
    batch: int,
    checkpoint: Callable[[str], None],
) -> str:
    """Load every row in scope inside one consistent read; return the cursor it yields."""
    report.loaded = True
    log.info("🔄 Loading this workstation's rows from the central database")
    with central.connect() as conn, consistent_read(conn) as snapshot:
        for chunk in _scoped_rows(conn, scope, batch):
            checkpoint("pull:before-load")
            _apply(uow_factory, chunk, None, scope, report)
            checkpoint("pull:loaded")
    with uow_factory() as uow:
        uow.begin_write()
        ls.set_state(uow.session, CURSOR, snapshot)
        ls.set_state(uow.session, SCOPE_USER, str(scope.user_id))
        uow.commit()
    return snapshot


def _scoped_rows(conn: Connection, scope: Scope, batch: int) -> Iterator[list[Incoming]]:
    for name in TABLE_ORDER:
        everyone = name in scope.all_rows_of
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            text(
                f"SELECT t.id, {central_json(name)}, coalesce(v.version, 1) FROM public.{name} t "
                "LEFT JOIN workstation.row_versions v ON v.table_name = :t AND v.row_id = t.id "
                + ("" if everyone else "WHERE v.doctor_id = :me ")
                + "ORDER BY t.id"
            ),
            {"t": name, "me": scope.user_id},
        )
        for rows in result.partitions(batch):
            yield [Incoming(name, row_id, data, False, version) for row_id, data, version in rows]


def _net(changes: list[Incoming]) -> list[Incoming]:
    """The last state of each row in the batch, in the order of its last change.

    A web box save deletes a box and inserts it again under a new id in one transaction: only
    the row that remains is applied, so an unchanged re-created box is no change at all.
    """
    last: dict[tuple[Any, ...], Incoming] = {}
    for change in changes:
        keys = NATURAL_KEYS.get(change.table)
        if keys is not None:
            key: tuple[Any, ...] = (change.table, *(str(change.data.get(k)) for k in keys))
        else:
            key = (change.table, str(change.row_id))
        last.pop(key, None)
        last[key] = change
    return list(last.values())


def _apply(
    uow_factory: UnitOfWorkFactory,
    incoming: list[Incoming],
    cursor: str | None,
    scope: Scope,
    report: PullReport,
    final: bool = True,
) -> None:
    """Apply one batch and move the cursor past it, in one local transaction; ``final``: no
    change after this batch's (a row edited here is then decided against its last state)."""
    with uow_factory() as uow:
        uow.begin_write()
        session = uow.session
        ls.defer_foreign_keys(session)
        ls.rejoin_recreated(session)
        pending = ls.read_pending(session)
        for name in TABLE_ORDER:
            rows = [c for c in incoming if c.table == name]
            if rows:
                _apply_table(session, name, rows, pending, report, final)
        if cursor is not None:
            ls.set_state(session, CURSOR, cursor)
            ls.set_state(session, SCOPE_USER, str(scope.user_id))
        uow.commit()


def _apply_table(
    session: Session,
    name: str,
    rows: list[Incoming],
    pending: dict[tuple[str, uuid.UUID], ls.Pending],
    report: PullReport,
    final: bool,
) -> None:
    known = ls.bases(session, name, [c.row_id for c in rows])
    fresh = [c for c in rows if c.row_id not in known or known[c.row_id][0] < c.version]
    report.skipped += len(rows) - len(fresh)
    touched = _touched_by_pending(session, name, fresh, pending)
    plain = [c for c in fresh if id(c) not in touched]
    ls.put_rows(
        session,
        name,
        [c.data for c in plain if not c.deleted],
        [c.version for c in plain if not c.deleted],
    )
    for change in plain:
        if change.deleted:
            report.conflicts += ls.keep_descendants(session, name, change.row_id, pending)
            ls.remove_row(session, name, change.row_id)
            twin = ls.local_by_key(session, name, change.data)  # under an id netted away
            if twin is not None and (name, uuid.UUID(twin["id"])) not in pending:
                ls.remove_row(session, name, uuid.UUID(twin["id"]))
    for change in fresh:
        if id(change) in touched:
            _merge(session, change, touched[id(change)], pending, report, final)
    report.applied += len(fresh)
    if fresh:
        report.tables.add(name)


def _touched_by_pending(
    session: Session,
    name: str,
    changes: list[Incoming],
    pending: dict[tuple[str, uuid.UUID], ls.Pending],
) -> dict[int, ls.Pending]:
    """The changes meeting a row with pending local edits (by id, or by natural key)."""
    mine = {row_id: p for (t, row_id), p in pending.items() if t == name}
    if not mine:
        return {}
    found: dict[int, ls.Pending] = {}
    keys = NATURAL_KEYS.get(name)
    by_key: dict[tuple[str, ...], uuid.UUID] = {}
    if keys is not None:
        rows = ls.local_rows(session, name, mine)
        for row_id, entry in mine.items():
            row = rows.get(row_id) or entry.tombstone  # a row deleted here keeps its key
            if row is not None:
                by_key[tuple(str(row[k]) for k in keys)] = row_id
    for change in changes:
        local_id = change.row_id if change.row_id in mine else None
        if local_id is None and keys is not None:  # a delete too: under any id, the same box
            local_id = by_key.get(tuple(str(change.data.get(k)) for k in keys))
        if local_id is not None:
            found[id(change)] = mine[local_id]
    return found


def _merge(
    session: Session,
    change: Incoming,
    entry: ls.Pending,
    pending: dict[tuple[str, uuid.UUID], ls.Pending],
    report: PullReport,
    final: bool,
) -> None:
    """A central change to a row edited here: agree, keep the local edit, or a conflict."""
    name = change.table
    local = ls.local_rows(session, name, [entry.row_id]).get(entry.row_id)
    central = None if change.row is None else from_central(name, change.row)
    base = ls.bases(session, name, [entry.row_id]).get(entry.row_id)
    verdict = decide(name, local, central, base[1] if base else None, pending=True)
    if not final and verdict in (Verdict.CONFLICT, Verdict.AGREE):
        return  # a state later changes may undo: decided by them, or by the push (live rows)
    if verdict is Verdict.LOCAL:
        if central is not None and central["id"] != str(entry.row_id) and local is not None:
            ls.rekey_pending(session, name, local, central, change.version)
        else:
            ls.rebase(session, name, entry.row_id, change.version, base)
        return
    if verdict is Verdict.CONFLICT:
        ls.record_conflict(
            session, name, entry.row_id, local, central, change.version, reason(local, central)
        )
        report.conflicts += 1
        log.warning("⚠️ Conflict on a %s row; the central version is kept beside this one", name)
    ls.forget(session, name, entry.row_id)
    pending.pop((name, entry.row_id), None)
    if central is None:
        report.conflicts += ls.keep_descendants(session, name, entry.row_id, pending)
        ls.remove_row(session, name, entry.row_id)
    else:
        ls.put_rows(session, name, [central], [change.version])
