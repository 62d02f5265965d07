"""A video frame's annotations are those of the still at that frame's time, whoever wrote it.

The web's still here says ``frame_number`` 7 (its 7th still) while its timestamp, 1.68 s of
the 25 fps video, is frame 42: the clinician sees its boxes on frame 42, and frame 7 is bare.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from iamedic_desktop.services import annotations as annotation_service
from tests.gui.annotation_support import World, world  # noqa: F401
from tests.support.pulled_stills import pulled_still

pytestmark = pytest.mark.gui


def test_the_web_still_is_annotated_on_the_frame_its_timestamp_names(
    world: World,  # noqa: F811
) -> None:
    video = world.add_video()
    store = world.store
    still = pulled_still(store.engine, video.id, timestamp_seconds=1.68, frame_number=7)
    annotation_service.add_box(
        store.uow, store.actor, still, bb_class="NT", x_min=20, y_min=30, width=40, height=20
    )
    world.canvas.show_frame(QImage(320, 240, QImage.Format.Format_RGB888))

    world.controller.set_target(video, 7, 7 / 25)
    world.settle()
    assert world.canvas.box_states() == []
    assert world.controller.target is not None and world.controller.target.still_id is None

    world.controller.set_target(video, 42, 42 / 25)
    world.settle()
    assert [b.bb_class for b in world.canvas.box_states()] == ["NT"]
    assert world.controller.target is not None and world.controller.target.still_id == still

    # An edit on frame 42 goes to that still: no second still is taken.
    world.controller.set_useful(True)
    world.settle()
    assert world.stored_usefulness(still) == 1
