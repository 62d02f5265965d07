"""The central PostgreSQL restarted (or stopped) in the middle of a sync, on a server of the
test's own: a sync caught inside a central transaction ends with one clear message, one caught
between connections carries on over new ones; while the server is down a sync is refused
clearly; once it is back, one sync converges.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from iamedic_desktop.core.errors import CentralDatabaseError
from tests.support.fault_checks import converged, pending_edits, store_is_sound
from tests.support.fault_world import World, build, drop, sync
from tests.support.own_cluster import Cluster, own_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with own_cluster() as made:
        if made is None:
            pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) to make a server of our own")
        yield made


@pytest.fixture
def central_url(cluster: Cluster) -> Iterator[str]:
    admin = create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "central"'))
    admin.dispose()
    yield make_url(cluster.admin_url).set(database="central").render_as_string(False)
    admin = create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE "central" WITH (FORCE)'))
    admin.dispose()


class _RestartAt:
    """A checkpoint that restarts the server at the n-th pass of ``point``."""

    def __init__(self, cluster: Cluster, point: str, nth: int) -> None:
        self.cluster, self.point, self.nth = cluster, point, nth
        self.seen: list[str] = []

    def __call__(self, point: str) -> None:
        self.seen.append(point)
        if point == self.point and self.seen.count(point) == self.nth:
            self.cluster.restart()


POINTS = [
    ("pull:before-apply", 2, False),
    ("push:files-sent", 1, False),
    ("push:media:before-central-commit", 1, True),
    ("push:media:after-central-commit", 1, False),
    ("push:picture_bb_annotations:before-central-commit", 4, True),
    ("push:picture_bb_annotations:recorded", 2, False),
]


def test_a_restart_mid_sync_fails_it_cleanly_or_not_at_all_and_the_next_sync_converges(
    cluster: Cluster, central_url: str, tmp_path: Path
) -> None:
    template = build(tmp_path / "template", central_url, synced=True)
    edits = pending_edits(template.settings())
    reference = _reference(template, tmp_path / "dry", edits)
    for n, (point, nth, inside_a_transaction) in enumerate(POINTS):
        world = template.copy(tmp_path / f"restart-{n}")
        try:
            restart = _RestartAt(cluster, point, nth)
            try:
                sync(world, checkpoint=restart)
                failed = None
            except CentralDatabaseError as exc:
                failed = exc.message
            assert restart.seen.count(point) >= nth, restart.seen
            if inside_a_transaction:
                assert failed is not None, f"the sync went on after its transaction at {point}"
            if failed is not None:
                assert failed.startswith("The sync stopped: the central database did not answer")
                assert "\n" not in failed
            store_is_sound(world.settings())
            sync(world)
            assert converged(world, edits) == reference, f"restarted at {point} (pass {nth})"
        finally:
            drop(world)


def test_a_server_stopped_mid_sync_refuses_the_next_sync_until_it_is_back(
    cluster: Cluster, central_url: str, tmp_path: Path
) -> None:
    template = build(tmp_path / "template", central_url, synced=True)
    edits = pending_edits(template.settings())
    reference = _reference(template, tmp_path / "dry", edits)
    world = template.copy(tmp_path / "stopped")
    try:

        def stop(point: str) -> None:
            if point == "push:frames:before-central-commit":
                cluster.stop()

        try:
            with pytest.raises(CentralDatabaseError) as stopped:
                sync(world, checkpoint=stop)
            assert stopped.value.message.startswith("The sync stopped")
            with pytest.raises(CentralDatabaseError) as down:
                sync(world)
            assert down.value.message.startswith("The central database cannot be reached")
        finally:
            cluster.start()
        store_is_sound(world.settings())
        sync(world)
        assert converged(world, edits) == reference
    finally:
        drop(world)


def _reference(template: World, folder: Path, edits: list) -> dict[str, set]:
    """The central rows a sync without a fault ends with."""
    dry = template.copy(folder)
    try:
        sync(dry)
        return converged(dry, edits)
    finally:
        drop(dry)
