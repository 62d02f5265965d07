"""Property: whatever two workstations and the web do to one doctor's studies, in whatever order
they sync, all three end with the same rows, and every pair of different edits to the same box
or label is a conflict whose local side is kept.

Hypothesis draws operation sequences (create a study, import a tiny image, draw / move / delete
a box, label, the web re-saving boxes or changing a label, sync A, sync B); each example ends
with sync A, sync B, sync A and is checked against ``tests/support/sync_oracle.py``. Batches
of one change each are drawn too, so a pull meets a row's changes in several batches. Each
example is a new doctor on one central database: scope keeps the examples apart.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.support.sync_oracle import Box
from tests.support.sync_trio import NAMES, Trio, trio

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLASSES = ("NT", "CM")
PLACES: tuple[Box, ...] = ((1.0, 2.0, 20.0, 15.0), (5.0, 5.0, 20.0, 15.0), (9.0, 9.0, 12.0, 12.0))
OPERATIONS = ("study", "import", "box", "box", "delete", "label", "web_boxes", "web_label",
              "sync", "sync")  # fmt: skip


def _step(world: Trio, data: st.DataObject) -> None:
    """Draw one operation whose arguments exist in the world, and run it."""
    operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
    name = data.draw(st.sampled_from(NAMES), label="workstation")
    if operation == "study":
        world.create_study(name)
    elif operation == "import" or operation == "sync":
        getattr(world, "import_image" if operation == "import" else "sync")(name)
    elif operation in ("box", "delete", "label"):
        media = sorted(world.oracle.side(name).media)
        if not media:
            return
        media_id = data.draw(st.sampled_from(media), label="media")
        bb_class = data.draw(st.sampled_from(CLASSES), label="class")
        if operation == "box":
            world.set_box(name, media_id, bb_class, data.draw(st.sampled_from(PLACES)))
        elif operation == "delete":
            world.delete_box(name, media_id, bb_class)
        else:
            world.set_label(name, media_id, data.draw(st.sampled_from((0, 1)), label="value"))
    else:
        media = sorted(world.oracle.central_media)
        if not media:
            return
        media_id = data.draw(st.sampled_from(media), label="central media")
        if operation == "web_label":
            world.web_set_label(media_id, data.draw(st.sampled_from((0, 1)), label="value"))
            return
        boxes = dict(world.oracle.web_boxes(media_id))
        bb_class = data.draw(st.sampled_from(CLASSES), label="web class")
        place = data.draw(st.sampled_from((None, *PLACES)), label="web place")
        if place is None:
            boxes.pop(bb_class, None)
        else:
            boxes[bb_class] = place
        world.web_save_boxes(media_id, boxes)


@settings(
    max_examples=30,
    deadline=None,
    database=None,  # no example database in the checkout: the run is the same every time
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_edits_on_two_workstations_and_the_web_converge_with_every_conflict_kept(
    central: Engine, pg_database: str, tmp_path: Path, data: st.DataObject
) -> None:
    with trio(central, pg_database, tmp_path / uuid.uuid4().hex[:8]) as world:
        batch = data.draw(st.sampled_from((2000, 1)), label="batch")
        for name in NAMES:
            world.ws[name].engine.batch = batch  # 1: every change its own pull and push batch
        world.import_image("A")  # something to annotate from the start
        for _ in range(data.draw(st.integers(0, 14), label="steps")):
            _step(world, data)
        for name in ("A", "B", "A"):
            world.sync(name)
        world.check()
