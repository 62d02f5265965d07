"""The local store's side of a sync: pending edits, agreed state, applying central rows.

Every function runs inside the caller's unit of work (``uow.session``) with Core statements:
rows written here come from the central database, so they never reach the outbox (only ORM
flushes do). The caller holds the write lock (``uow.begin_write()``) and commits.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from iamedic_desktop.models import OutboxEntry, SyncBase, SyncConflict, SyncState
from iamedic_desktop.sync.rows import (
    NATURAL_KEYS,
    columns,
    content_hash,
    dump_row,
    from_central,
    load_row,
    row_values,
    table,
    typed,
)
from iamedic_desktop.sync.scope import descendants

_CHUNK = 500  # ids per IN (...): under SQLite's variable limit


@dataclass
class Pending:
    """A row with local edits not pushed yet, collapsed over its outbox entries."""

    table: str
    row_id: uuid.UUID
    base_version: int | None  # of its first pending edit
    tombstone: dict[str, Any] | None  # the row as deleted here (last delete)
    upto_seq: int  # its newest entry


def read_pending(
    session: Session, name: str | None = None, ids: Iterable[uuid.UUID] = ()
) -> dict[tuple[str, uuid.UUID], Pending]:
    """Every row with pending edits (with ``name``: only these rows of it), oldest edit's base
    first."""
    pending: dict[tuple[str, uuid.UUID], Pending] = {}
    query = select(
        OutboxEntry.table_name,
        OutboxEntry.row_id,
        OutboxEntry.operation,
        OutboxEntry.base_version,
        OutboxEntry.row_json,
        OutboxEntry.seq,
    ).order_by(OutboxEntry.seq)
    if name is None:
        queries = [query]
    else:  # a row's entries all fall in one chunk: their order holds
        queries = [query.where(OutboxEntry.table_name == name, OutboxEntry.row_id.in_(chunk))
                   for chunk in _chunks(list(ids))]  # fmt: skip
    for table_name, row_id, operation, base, tomb, seq in itertools.chain.from_iterable(
        session.execute(q) for q in queries
    ):
        entry = pending.get((table_name, row_id))
        if entry is None:
            entry = pending[(table_name, row_id)] = Pending(table_name, row_id, base, None, seq)
        entry.upto_seq = seq
        if operation == "delete":
            entry.tombstone = load_row(tomb)
    return pending


def pending_count(session: Session) -> int:
    """How many rows wait to be pushed."""
    return (
        session.scalar(
            select(func.count()).select_from(
                select(OutboxEntry.table_name, OutboxEntry.row_id).distinct().subquery()
            )
        )
        or 0
    )


def _chunks(ids: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def local_rows(session: Session, name: str, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """The current local rows with these ids, as sync values."""
    tbl, copied = table(name), columns(name)
    query = select(*(tbl.c[c] for c in copied))  # plain tuples: a push reads thousands
    out: dict[uuid.UUID, dict] = {}
    for chunk in _chunks(list(ids)):
        for values in session.execute(query.where(tbl.c.id.in_(chunk))):
            row = dict(zip(copied, values, strict=True))
            out[row["id"]] = row_values(name, row)
    return out


def local_by_key(session: Session, name: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The local row with the same natural key as ``data`` (None when the table has none)."""
    keys = NATURAL_KEYS.get(name)
    if keys is None:
        return None
    tbl = table(name)
    values = typed(name, {k: data[k] for k in keys})
    row = (
        session.execute(select(tbl).where(and_(*(tbl.c[k] == values[k] for k in keys))))
        .mappings()
        .first()
    )
    return None if row is None else row_values(name, dict(row))


def bases(
    session: Session, name: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, str]]:
    """The agreed central version and content hash of these rows."""
    out: dict[uuid.UUID, tuple[int, str]] = {}
    for chunk in _chunks(list(ids)):
        rows = session.execute(
            select(SyncBase.row_id, SyncBase.version, SyncBase.row_hash).where(
                SyncBase.table_name == name, SyncBase.row_id.in_(chunk)
            )
        )
        out.update({row_id: (version, digest) for row_id, version, digest in rows})
    return out


def set_base(session: Session, name: str, row_id: uuid.UUID, version: int, digest: str) -> None:
    """Record that the local row now agrees with central version ``version``."""
    stmt = sqlite_insert(SyncBase).values(
        table_name=name, row_id=row_id, version=version, row_hash=digest
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["table_name", "row_id"],
            set_={"version": version, "row_hash": digest},
        )
    )


def forget(session: Session, name: str, row_id: uuid.UUID, upto_seq: int | None = None) -> None:
    """Drop the row's pushed outbox entries (all, or up to ``upto_seq``); later ones stay."""
    condition = and_(OutboxEntry.table_name == name, OutboxEntry.row_id == row_id)
    if upto_seq is not None:
        condition = and_(condition, _upto(OutboxEntry.seq, upto_seq))
    session.execute(delete(OutboxEntry).where(condition))


def _upto(seq: Any, upto: Any) -> Any:
    """``seq <= upto``, written so that SQLite finds the entries by their row id: with the
    statistics of a small outbox (PRAGMA optimize early in a store's life) it took ``seq <= n``
    as a rowid range and scanned every older entry for each row settled (a push went
    quadratic); ``seq + 0`` is no index's column."""
    return seq + 0 <= upto


def rebase_pending(session: Session, name: str, row_id: uuid.UUID, version: int) -> None:
    """Edits made while a push ran are now based on the version that push wrote."""
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.table_name == name, OutboxEntry.row_id == row_id)
        .values(base_version=version)
    )


def agree(session: Session, name: str, agreed: list[tuple[uuid.UUID, int, str, int]]) -> None:
    """Rows now agree with the central version pushed: for each ``(row id, version, content
    hash, upto_seq)``, set its base, drop its pushed outbox entries and rebase edits made since
    on that version (``set_base``, ``forget`` and ``rebase_pending`` for a whole batch at once)."""
    if not agreed:
        return
    base = sqlite_insert(cast(Table, SyncBase.__table__))  # Core: no ORM bulk bookkeeping
    session.execute(
        base.on_conflict_do_update(
            index_elements=["table_name", "row_id"],
            set_={"version": base.excluded.version, "row_hash": base.excluded.row_hash},
        ),
        [{"table_name": name, "row_id": r, "version": v, "row_hash": h} for r, v, h, _ in agreed],
    )
    outbox = cast(Table, OutboxEntry.__table__)  # Core: executemany, no ORM bookkeeping
    mine = (outbox.c.table_name == name, outbox.c.row_id == bindparam("_id"))
    session.execute(
        delete(outbox).where(*mine, _upto(outbox.c.seq, bindparam("_upto"))),
        [{"_id": r, "_upto": seq} for r, _, _, seq in agreed],
    )
    session.execute(
        update(outbox).where(*mine).values(base_version=bindparam("_version")),
        [{"_id": r, "_version": v} for r, v, _, _ in agreed],
    )


def put_rows(session: Session, name: str, rows: list[dict[str, Any]], versions: list[int]) -> None:
    """Make the local rows exactly these central rows, agreed at ``versions``, without outbox
    entries (executemany: a pull applies thousands at a time).

    A local row with the same natural key and another id is the same box (or label) under the
    id another writer gave it: it is replaced.
    """
    if not rows:
        return
    tbl = table(name)
    plain = [from_central(name, row) for row in rows]  # once per row: typed, then hashed
    values = [typed(name, row) for row in plain]
    keys = NATURAL_KEYS.get(name)
    if keys is not None:
        same_key = delete(tbl).where(
            tbl.c.id != bindparam("_id"), *(tbl.c[k] == bindparam(f"_{k}") for k in keys)
        )
        session.execute(
            same_key, [{"_id": v["id"], **{f"_{k}": v[k] for k in keys}} for v in values]
        )
    stmt = sqlite_insert(tbl)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={c: stmt.excluded[c] for c in values[0] if c != "id"},
        ),
        values,
    )
    base = sqlite_insert(cast(Table, SyncBase.__table__))  # Core: no ORM bulk bookkeeping
    session.execute(
        base.on_conflict_do_update(
            index_elements=["table_name", "row_id"],
            set_={"version": base.excluded.version, "row_hash": base.excluded.row_hash},
        ),
        [
            {
                "table_name": name,
                "row_id": v["id"],
                "version": version,
                "row_hash": content_hash(name, row),
            }
            for v, row, version in zip(values, plain, versions, strict=True)
        ],
    )


def rekey_pending(
    session: Session, name: str, local: dict[str, Any], central: dict[str, Any], version: int
) -> None:
    """A row edited here whose central twin was re-created unchanged under another id (a web
    box save): the local edit now stands on the twin's id and version, still pending."""
    remove_row(session, name, uuid.UUID(local["id"]))
    put_rows(session, name, [{**local, "id": central["id"], "created_at": central["created_at"]}],
             [version])  # fmt: skip
    row_id = uuid.UUID(central["id"])
    set_base(session, name, row_id, version, str(content_hash(name, central)))
    session.execute(insert(OutboxEntry).values(table_name=name, row_id=row_id, operation="update"))


def rebase(
    session: Session, name: str, row_id: uuid.UUID, version: int, base: tuple[int, str] | None
) -> None:
    """The central row moved to ``version`` without changing its content: the pending edit is
    now based on that version."""
    if base is None:
        return
    set_base(session, name, row_id, version, base[1])
    rebase_pending(session, name, row_id, version)


def remove_row(session: Session, name: str, row_id: uuid.UUID) -> None:
    """Delete the local row (its children go with it by the foreign keys), without an entry."""
    tbl = table(name)
    session.execute(delete(tbl).where(tbl.c.id == row_id))
    session.execute(delete(SyncBase).where(SyncBase.table_name == name, SyncBase.row_id == row_id))
    forget(session, name, row_id)


def record_conflict(
    session: Session,
    name: str,
    row_id: uuid.UUID,
    local: dict[str, Any] | None,
    central: dict[str, Any] | None,
    central_version: int | None,
    reason: str,
) -> None:
    """Keep the local side of a conflicting edit beside the central one, for a person."""
    media = (local or central or {}).get("media_id")
    if name == "media":
        media = str(row_id)
    session.execute(
        insert(SyncConflict).values(
            table_name=name,
            row_id=row_id,
            media_id=uuid.UUID(str(media)) if media else None,
            local_json=dump_row(local),
            central_json=dump_row(central),
            central_version=central_version,
            reason=reason,
        )
    )


def drop_base(session: Session, name: str, row_id: uuid.UUID) -> None:
    """Forget the agreed state of a row gone on both sides."""
    session.execute(delete(SyncBase).where(SyncBase.table_name == name, SyncBase.row_id == row_id))


def keep_descendants(
    session: Session, name: str, row_id: uuid.UUID, pending: dict[tuple[str, uuid.UUID], Pending]
) -> int:
    """Before a study or media goes because it went centrally: its rows edited here are kept as
    conflicts (the foreign-key cascade would take them silently). Returns how many."""
    kept = 0
    for child, child_id in descendants(session, name, row_id):
        if (child, child_id) not in pending:
            continue
        local = local_rows(session, child, [child_id]).get(child_id)
        record_conflict(
            session, child, child_id, local, None, None,
            "Its study or media was deleted in the central database",
        )  # fmt: skip
        forget(session, child, child_id)
        pending.pop((child, child_id), None)
        kept += 1
    return kept


def get_state(session: Session, key: str) -> str | None:
    """A value of the sync's state."""
    return session.scalar(select(SyncState.value).where(SyncState.key == key))


def set_state(session: Session, key: str, value: str | None) -> None:
    """Set (or with None, clear) a value of the sync's state."""
    if value is None:
        session.execute(delete(SyncState).where(SyncState.key == key))
        return
    stmt = sqlite_insert(SyncState).values(key=key, value=value)
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def defer_foreign_keys(session: Session) -> None:
    """Check foreign keys at commit: a batch may hold a child before its parent."""
    session.execute(text("PRAGMA defer_foreign_keys = ON"))


def rejoin_recreated(session: Session) -> None:
    """A row deleted here and made again under the same natural key before it was pushed (a box
    removed and drawn again, a label cleared and set) is one row edited: the new row takes the
    id the sync knows (the one with an agreed base) and the outbox entries of both, so it is
    decided against the content both sides last agreed on, not as a stranger."""
    names = session.scalars(
        select(OutboxEntry.table_name)
        .distinct()
        .where(OutboxEntry.operation == "delete", OutboxEntry.table_name.in_(NATURAL_KEYS))
    ).all()
    if not names:
        return
    pending = read_pending(session)
    for name in names:
        mine = {p.row_id: p for p in pending.values() if p.table == name}
        rows, agreed = local_rows(session, name, mine), bases(session, name, mine)
        groups: dict[tuple[str, ...], list[uuid.UUID]] = {}
        for row_id, entry in mine.items():  # oldest edit first
            data = rows.get(row_id) or entry.tombstone
            if data is not None:
                key = tuple(str(data[k]) for k in NATURAL_KEYS[name])
                groups.setdefault(key, []).append(row_id)
        tbl = table(name)
        for ids in (ids for ids in groups.values() if len(ids) > 1):
            keep = next((i for i in ids if i in agreed), ids[0])
            others = [i for i in ids if i != keep]
            was = mine[keep].tombstone or rows.get(keep) or {}
            born = typed(name, {"created_at": was["created_at"]}) if was else {}
            session.execute(update(tbl).where(tbl.c.id.in_(others)).values(id=keep, **born))
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.table_name == name, OutboxEntry.row_id.in_(others))
                .values(row_id=keep)
            )
            session.execute(
                delete(SyncBase).where(SyncBase.table_name == name, SyncBase.row_id.in_(others))
            )
