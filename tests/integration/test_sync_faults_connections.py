"""The sync's connections to the central database killed in the middle of a sync (another
session runs pg_terminate_backend on them, as a firewall or a DBA would): a sync caught inside a
central transaction ends with one clear CentralDatabaseError, recorded for the status bar; one
caught between connections carries on over new ones. Either way the next sync converges.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.sync.engine import sync_status
from tests.support.fault_checks import converged, pending_edits, store_is_sound
from tests.support.fault_world import World, build, drop, sync

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
LOAD = ("pull:before-load", "pull:loaded")  # inside the first load's one central read


def terminate_sessions(world: World) -> int:
    """End every session on the world's central database, and wait until they are gone."""
    database = make_url(world.central_url).database
    admin = create_engine(
        make_url(world.central_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            # The pids first, then only those: a filter beside pg_terminate_backend in one
            # WHERE may be evaluated after it, on every session of the server.
            ended = list(
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :db "
                         "AND pid <> pg_backend_pid()"),
                    {"db": database},
                ).scalars()
            )  # fmt: skip
            conn.execute(
                text("SELECT pg_terminate_backend(p) FROM unnest(CAST(:p AS int[])) AS p"),
                {"p": ended},
            )
            deadline = time.monotonic() + 10
            while conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": ended}
            ).scalar_one():
                assert time.monotonic() < deadline, "terminated sessions did not end"
                time.sleep(0.01)
    finally:
        admin.dispose()
    return len(ended)


class _CutAt:
    """A checkpoint that ends the sync's central sessions at the n-th pass of ``point``."""

    def __init__(self, world: World, point: str, nth: int) -> None:
        self.world, self.point, self.nth = world, point, nth
        self.seen: list[str] = []
        self.cut = 0

    def __call__(self, point: str) -> None:
        self.seen.append(point)
        if point == self.point and self.seen.count(point) == self.nth:
            self.cut = terminate_sessions(self.world)


def _points(names: list[str]) -> list[tuple[str, int]]:
    """Every kind of checkpoint at its first pass, and the last pass of the last kind."""
    firsts = list(dict.fromkeys(names))
    return [(name, 1) for name in firsts] + [(names[-1], names.count(names[-1]))]


@pytest.mark.parametrize("synced", [True, False], ids=["feed-pull-and-push", "first-load-and-push"])
def test_connections_killed_mid_sync_end_it_clearly_and_the_next_sync_converges(
    pg_database: str, tmp_path: Path, synced: bool
) -> None:
    template = build(tmp_path / "template", pg_database, synced=synced)
    edits = pending_edits(template.settings())
    dry = template.copy(tmp_path / "dry")
    names: list[str] = []
    try:
        sync(dry, checkpoint=names.append)
        reference = converged(dry, edits)
    finally:
        drop(dry)
    inside_a_transaction = 0
    for n, (point, nth) in enumerate(_points(names)):
        world = template.copy(tmp_path / f"cut-{n}")
        try:
            cut = _CutAt(world, point, nth)
            try:
                sync(world, checkpoint=cut)
                failed = None
            except CentralDatabaseError as exc:
                failed = exc.message
            assert cut.cut >= 1, f"no session of the sync was open at {point}"
            if point.endswith("before-central-commit") or point in LOAD:
                inside_a_transaction += 1
                assert failed is not None, f"the sync went on after its transaction at {point}"
            if failed is not None:
                _clear(failed)
                assert _last_error(world) == failed
            store_is_sound(world.settings())
            sync(world)
            assert converged(world, edits) == reference, f"cut at {point} (pass {nth})"
        finally:
            drop(world)
    assert inside_a_transaction >= (7 if synced else 9)  # one per table pushed (+ the load)


def _clear(message: str) -> None:
    """One line for a person: what stopped, and that the central database is the cause."""
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith(("The sync stopped", "The central")), message
    assert "central database" in message or "central change feed" in message, message


def _last_error(world: World) -> str | None:
    store = open_local_store(world.settings())
    try:
        return sync_status(store.uow).last_error
    finally:
        store.close()
