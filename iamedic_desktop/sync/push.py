"""Push: the outbox to the central database, files first, parents first, batch by batch.

For each table in ``TABLE_ORDER`` (deletions in the reverse order), pending rows go in batches;
each batch is one central transaction that locks the central rows it meets, decides each row
with ``merge.decide`` (the base is what both sides last agreed on), writes the winners in bulk
and commits; then one local transaction records the agreement and drops the pushed outbox
entries (only those the push read: an edit made meanwhile stays pending, based on the version
just written). A kill or a lost connection between the two commits is harmless: the next push
finds the central row equal to the local one and only records the agreement.

A media row goes only once its file is in central storage (the web deletes media rows whose
file is missing); rows under a media still waiting for its file wait with it. Rows of another
doctor's study are never pushed, whatever the local store says.

Threading: blocking; runs on the sync worker, never on the UI thread. Within one table, two
helper threads of the push's own read the next batch and record the last one locally while a
batch is at the central database; checkpoints are all passed on the calling thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.sync import central_rows as cr
from iamedic_desktop.sync import local_side as ls
from iamedic_desktop.sync.merge import Verdict, decide, reason
from iamedic_desktop.sync.push_files import FileSender
from iamedic_desktop.sync.rows import (
    IDENTITY_TABLES,
    PARENTS,
    TABLE_ORDER,
    content_hash,
    key_of,
)
from iamedic_desktop.sync.scope import Scope, owners

log = logging.getLogger(__name__)
BATCH = 5000


@dataclass
class PushReport:
    """What a push did; ``held`` rows wait for a file, ``refused`` ones are not this user's."""

    written: int = 0
    deleted: int = 0
    agreed: int = 0
    conflicts: int = 0
    held: int = 0
    refused: int = 0
    files_sent: int = 0
    tables: set[str] = field(default_factory=set)


@dataclass
class _Row:
    pending: ls.Pending
    local: dict[str, Any] | None  # None: deleted here (``pending.tombstone`` holds it)
    base: tuple[int, str] | None  # what both sides last agreed on

    @property
    def data(self) -> dict[str, Any] | None:
        return self.local if self.local is not None else self.pending.tombstone


def push(
    uow_factory: UnitOfWorkFactory,
    central: Engine,
    files: FileSender,
    scope: Scope,
    *,
    batch: int = BATCH,
    checkpoint: Callable[[str], None] = lambda _point: None,
) -> PushReport:
    """Push every pending local edit.

    ``checkpoint(point)`` is called at each step where a crash could fall (before and after
    each central commit, after each local record): fault tests kill the process there.
    """
    report = PushReport()
    with uow_factory() as uow:
        uow.begin_write()
        ls.rejoin_recreated(uow.session)
        uow.commit()
    with uow_factory() as uow:
        pending = ls.read_pending(uow.session)
    if not pending:
        return report
    held: set[str] = set()  # media ids whose file is not in central storage yet
    gone: set[tuple[str, uuid.UUID]] = set()  # not here any more: all the deleting pass reads
    # While a batch is at the central database, the next one is read and the last one recorded
    # locally (one table at a time: a table starts once its parents' batches are recorded).
    with ThreadPoolExecutor(2, thread_name_prefix="sync-push") as helpers:
        for deleting in (False, True):
            for name in reversed(TABLE_ORDER) if deleting else TABLE_ORDER:
                ids = [i for (t, i) in pending if t == name]
                batches = [  # the same batches in both passes; the second reads the gone only
                    [pending[(name, i)] for i in ids[start : start + batch]
                     if not deleting or (name, i) in gone]
                    for start in range(0, len(ids), batch)
                ]  # fmt: skip
                batches = [b for b in batches if b]
                recording: Future[None] | None = None
                ahead = helpers.submit(_read, uow_factory, name, batches[0]) if batches else None
                for k in range(len(batches)):
                    rows = ahead.result()  # type: ignore[union-attr]
                    if k + 1 < len(batches):
                        ahead = helpers.submit(_read, uow_factory, name, batches[k + 1])
                    gone.update((name, r.pending.row_id) for r in rows if r.local is None)
                    rows = [r for r in rows if (r.local is None) == deleting]
                    if rows:
                        recording = _push_batch(
                            uow_factory, central, files, scope, name, rows, held, report,
                            checkpoint, helpers, recording)  # fmt: skip
                _recorded(recording, name, checkpoint)
    return report


def _read(uow_factory: UnitOfWorkFactory, name: str, entries: list[ls.Pending]) -> list[_Row]:
    ids = [e.row_id for e in entries]
    with uow_factory() as uow:
        local = ls.local_rows(uow.session, name, ids)
        bases = ls.bases(uow.session, name, ids)
    return [_Row(e, local.get(e.row_id), bases.get(e.row_id)) for e in entries]


def _push_batch(
    uow_factory: UnitOfWorkFactory,
    central: Engine,
    files: FileSender,
    scope: Scope,
    name: str,
    rows: list[_Row],
    held: set[str],
    report: PushReport,
    checkpoint: Callable[[str], None],
    helpers: ThreadPoolExecutor,
    recording: Future[None] | None,
) -> Future[None] | None:
    """Push one batch; its local record is left running on ``helpers`` (returned), once the
    one before (``recording``) is done."""
    rows = [r for r in rows if r.data is not None or _forget_unborn(uow_factory, r)]
    rows = _owned(uow_factory, scope, name, rows, report)
    if name == "media":
        sent, waiting = files.send([r.local for r in rows if r.local is not None])
        report.files_sent += sent
        held.update(waiting)
        checkpoint("push:files-sent")
    rows = [r for r in rows if not _waits(name, r, held, report)]
    if not rows:
        return recording
    with central.connect() as conn, conn.begin():
        plan = _plan(conn, scope, name, rows, held, report)
        cr.write(conn, name, [r.local for r, _ in plan.writes])  # type: ignore[misc]
        cr.delete(conn, name, [c.data["id"] for _, c in plan.deletes])
        written = [_central_id(name, r, c) for r, c in plan.writes] + [
            c.data["id"] for _, c in plan.agreed
        ]
        versions = cr.versions(conn, name, written)
        checkpoint(f"push:{name}:before-central-commit")
    checkpoint(f"push:{name}:after-central-commit")
    _recorded(recording, name, checkpoint)
    return helpers.submit(_record, uow_factory, name, plan, versions, report)


def _recorded(recording: Future[None] | None, name: str, checkpoint: Callable[[str], None]) -> None:
    """Wait for a batch's local record (its error is raised here); then its checkpoint, on
    this thread, so a sync passes its checkpoints in the same order every time."""
    if recording is not None:
        recording.result()
        checkpoint(f"push:{name}:recorded")


@dataclass
class _Plan:
    writes: list[tuple[_Row, cr.CentralRow | None]] = field(default_factory=list)
    deletes: list[tuple[_Row, cr.CentralRow]] = field(default_factory=list)
    agreed: list[tuple[_Row, cr.CentralRow]] = field(default_factory=list)
    gone: list[_Row] = field(default_factory=list)  # deleted on both sides
    conflicts: list[tuple[_Row, cr.CentralRow | None]] = field(default_factory=list)


def _plan(conn: Any, scope: Scope, name: str, rows: list[_Row], held: set[str],
          report: PushReport) -> _Plan:  # fmt: skip
    found = cr.lookup(conn, name, [r.data for r in rows])  # type: ignore[misc]
    parents = cr.parent_owners(conn, name, [r.local for r in rows if r.local is not None])
    plan = _Plan()
    for row in rows:
        current = found.get(key_of(name, row.data))  # type: ignore[arg-type]
        if current is not None and not scope.may_write(name, current.owner):
            report.refused += 1
            continue
        if current is None and row.local is not None and name in PARENTS:
            parent = str(row.local[PARENTS[name][1]])
            if parent not in parents:
                plan.conflicts.append((row, None))  # its parent was deleted centrally
                continue
            if PARENTS[name][0] != "users" and not scope.may_write(name, parents[parent]):
                report.refused += 1
                continue
        base = row.base
        verdict = decide(name, row.local, current.data if current else None,
                         base[1] if base else None, pending=True)  # fmt: skip
        if verdict is Verdict.AGREE:
            if current is None:
                plan.gone.append(row)
            else:
                plan.agreed.append((row, current))
        elif verdict is Verdict.LOCAL:
            if row.local is None:
                if current is not None:
                    plan.deletes.append((row, current))
                else:
                    plan.gone.append(row)
            else:
                plan.writes.append((row, current))
        elif verdict is Verdict.CENTRAL:  # an edit undone here: the central row is taken
            if current is not None:  # (a central delete comes with the next pull)
                plan.agreed.append((row, current))
        else:
            plan.conflicts.append((row, current))
    return plan


def _central_id(name: str, row: _Row, current: cr.CentralRow | None) -> str:
    return str(current.data["id"]) if current is not None else str(row.local["id"])  # type: ignore[index]


def _forget_unborn(uow_factory: UnitOfWorkFactory, row: _Row) -> bool:
    """A row gone here without a tombstone (removed with its parent): nothing to push."""
    with uow_factory() as uow:
        uow.begin_write()
        ls.forget(uow.session, row.pending.table, row.pending.row_id, row.pending.upto_seq)
        uow.commit()
    return False


def _owned(uow_factory: UnitOfWorkFactory, scope: Scope, name: str, rows: list[_Row],
           report: PushReport) -> list[_Row]:  # fmt: skip
    """The rows this user may push, by their local owner (a forged row is refused here)."""
    with uow_factory() as uow:
        owner = owners(uow.session, name, [r.local for r in rows if r.local is not None])
    kept = []
    for row in rows:
        who = owner.get(row.data["id"]) if row.local is not None else None  # type: ignore[index]
        if name in IDENTITY_TABLES and who is not None and who == scope.local_user:
            _forget_unborn(uow_factory, row)  # the local-mode clinician exists only here
            continue
        if row.local is not None and not scope.may_write(name, who):
            report.refused += 1
            log.warning("⚠️ A %s row of another user's study is not pushed", name)
            continue
        kept.append(row)
    return kept


def _waits(name: str, row: _Row, held: set[str], report: PushReport) -> bool:
    """Whether the row waits for a media file not yet in central storage."""
    data = row.data or {}
    if name == "media":
        media = {str(data.get("id"))}
    elif name == "frames":
        media = {str(data.get("video_media_id")), str(data.get("frame_media_id"))}
    elif name in PARENTS and PARENTS[name][0] == "media":
        media = {str(data.get("media_id"))}
    else:
        return False
    if media & held:
        report.held += 1
        return True
    return False


def _record(uow_factory: UnitOfWorkFactory, name: str, plan: _Plan, versions: dict[str, int],
            report: PushReport) -> None:  # fmt: skip
    """Record what the central commit made true, in one local transaction."""
    with uow_factory() as uow:
        uow.begin_write()
        session = uow.session
        ls.defer_foreign_keys(session)
        settled = [(r, c.data) for r, c in plan.agreed]
        for row, current in plan.writes:
            after = dict(row.local)  # type: ignore[arg-type]
            if current is not None and current.data["id"] != after["id"]:
                after["id"], after["created_at"] = current.data["id"], current.data["created_at"]
            settled.append((row, after))
        # Later edits matter only where the local row is to take the central values.
        pending = ls.read_pending(session) if plan.conflicts else ls.read_pending(
            session, name, [r.pending.row_id for r, a in settled if a != r.local])  # fmt: skip
        _settle(session, name, [(r, a, versions[a["id"]]) for r, a in settled], pending)
        for row in [r for r, _ in plan.deletes] + plan.gone:
            ls.forget(session, name, row.pending.row_id, row.pending.upto_seq)
            ls.drop_base(session, name, row.pending.row_id)
        for row, current in plan.conflicts:
            _conflict(session, name, row, current, pending)
        uow.commit()
    report.written += len(plan.writes)
    report.deleted += len(plan.deletes)
    report.agreed += len(plan.agreed) + len(plan.gone)
    report.conflicts += len(plan.conflicts)
    if plan.writes or plan.deletes:
        report.tables.add(name)


def _settle(session: Any, name: str, settled: list[tuple[_Row, dict[str, Any], int]],
            pending: dict[tuple[str, uuid.UUID], ls.Pending]) -> None:  # fmt: skip
    """Each local row agrees with central ``after`` at ``version``; edits made since stay.
    A few statements for the whole batch (row by row, this was most of a push's time)."""
    put: list[tuple[dict[str, Any], int]] = []
    agreed: list[tuple[uuid.UUID, int, str, int]] = []
    for row, after, version in settled:
        row_id = row.pending.row_id
        if after["id"] != str(row_id):
            ls.remove_row(session, name, row_id)  # a box now known by its central id
            ls.put_rows(session, name, [after], [version])
            continue
        later = pending.get((name, row_id))
        edited_since = later is not None and later.upto_seq > row.pending.upto_seq
        if not edited_since and after != row.local:
            put.append((after, version))  # the central creation time, say
        agreed.append((row_id, version, str(content_hash(name, after)), row.pending.upto_seq))
    ls.put_rows(session, name, [a for a, _ in put], [v for _, v in put])
    ls.agree(session, name, agreed)


def _conflict(session: Any, name: str, row: _Row, current: cr.CentralRow | None,
              pending: dict[tuple[str, uuid.UUID], ls.Pending]) -> None:  # fmt: skip
    """Keep the local side as a conflict copy; the central side goes into the store."""
    row_id = row.pending.row_id
    central = current.data if current is not None else None
    version = current.version if current else None
    ls.record_conflict(
        session, name, row_id, row.local, central, version, reason(row.local, central)
    )
    log.warning("⚠️ Conflict on a %s row; the central version is kept beside this one", name)
    ls.forget(session, name, row_id)
    if current is None:
        ls.keep_descendants(session, name, row_id, pending)
        ls.remove_row(session, name, row_id)
        return
    if current.data["id"] != str(row_id):
        ls.remove_row(session, name, row_id)
    ls.put_rows(session, name, [current.data], [current.version])
