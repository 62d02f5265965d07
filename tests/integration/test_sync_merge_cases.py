"""Edits the sync must read by content, not by the history of row ids: a box moved and moved
back, drawn and removed before any sync, removed and drawn again, removed while the web re-saves
the media's boxes. Each case is checked against the sync oracle (tests/support/sync_oracle.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.support.sync_compare import annotations_by_key
from tests.support.sync_oracle import box_key
from tests.support.sync_trio import Trio, trio
from tests.support.sync_world import install_central

pytestmark = pytest.mark.postgres

P1, P2, P3 = (1.0, 2.0, 20.0, 15.0), (5.0, 5.0, 20.0, 15.0), (9.0, 9.0, 12.0, 12.0)


@pytest.fixture
def world(pg_database: str, tmp_path: Path) -> Iterator[Trio]:
    engine = create_engine(pg_database)
    install_central(engine)
    try:
        with trio(engine, pg_database, tmp_path) as made:
            yield made
    finally:
        engine.dispose()


def _shared_box(world: Trio) -> str:
    """An image with an NT box at P1 that both workstations hold, synced."""
    media = world.import_image("A")
    world.set_box("A", media, "NT", P1)
    world.sync("A")
    world.sync("B")
    return media


def _finish(world: Trio) -> None:
    for name in ("A", "B", "A"):
        world.sync(name)
    world.check()


def test_a_box_moved_and_moved_back_is_no_edit_when_the_other_side_moved_it(world: Trio) -> None:
    media = _shared_box(world)
    world.set_box("A", media, "NT", P2)
    world.set_box("A", media, "NT", P1)  # back where both last agreed
    world.set_box("B", media, "NT", P3)
    world.sync("B")
    assert world.sync("A") == 0
    _finish(world)


def test_a_box_drawn_and_removed_before_any_sync_is_no_edit(world: Trio) -> None:
    media = world.import_image("A")
    world.sync("A")
    world.sync("B")
    world.set_box("A", media, "NT", P1)
    world.delete_box("A", media, "NT")
    world.set_box("B", media, "NT", P2)
    world.sync("B")
    assert world.sync("A") == 0
    _finish(world)


def test_a_box_removed_and_drawn_again_here_is_one_edit(world: Trio) -> None:
    media = _shared_box(world)
    world.delete_box("A", media, "NT")
    world.set_box("A", media, "NT", P2)  # a new row, the same box (media, class)
    assert world.sync("A") == 0
    assert world.oracle.central[box_key(media, "NT")] == P2
    _finish(world)


def test_a_box_removed_and_drawn_again_here_while_moved_elsewhere_is_one_conflict(
    world: Trio,
) -> None:
    media = _shared_box(world)
    world.delete_box("A", media, "NT")
    world.set_box("A", media, "NT", P2)
    world.set_box("B", media, "NT", P3)
    world.sync("B")
    assert world.sync("A") == 1  # the box drawn again is kept as the conflict's local side
    _finish(world)


def test_a_box_removed_here_while_the_web_re_saves_it_unchanged_stays_removed(
    world: Trio,
) -> None:
    media = _shared_box(world)
    world.delete_box("A", media, "NT")
    world.web_save_boxes(media, {"NT": P1})  # the same box under a new id
    assert world.sync("A") == 0
    assert annotations_by_key(world.ws["A"].store.engine, world.doctor) == {}
    assert annotations_by_key(world.central, world.doctor) == {}
    _finish(world)


def test_a_box_moved_back_here_while_the_web_re_saved_then_removed_it_is_removed_here(
    world: Trio,
) -> None:
    media = _shared_box(world)
    world.set_box("A", media, "NT", P2)
    world.set_box("A", media, "NT", P1)  # no edit left, but an outbox entry
    world.web_save_boxes(media, {"NT": P1})  # the same box under a new id...
    world.web_save_boxes(media, {})  # ...then removed: the feed's last word is that new id
    assert world.sync("A") == 0
    assert annotations_by_key(world.ws["A"].store.engine, world.doctor) == {}
    _finish(world)


def test_a_box_the_web_made_and_removed_while_drawn_here_is_no_conflict_in_small_batches(
    world: Trio,
) -> None:
    media = world.import_image("A")
    world.sync("A")
    world.web_save_boxes(media, {"NT": P2})
    world.set_box("A", media, "NT", P1)
    world.web_save_boxes(media, {})  # gone again: central is back where A last agreed
    world.ws["A"].engine.batch = 1  # each change its own batch: the pull sees it come and go
    assert world.sync("A") == 0
    assert world.oracle.central[box_key(media, "NT")] == P1
    _finish(world)
