"""A still's pixels are the frame its timestamp names, however it was asked for.

At 30 fps frame 1 is shown from 0.0333 s; a still's timestamp is kept to the millisecond, so
frame 1's still is at 0.033 s, and so is a still asked for "at 0.033 s": both are frame 1 (the
frame every view places a still at 0.033 s on), and they are one still.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.media.still_encoder import decode_jpeg
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.services import extraction, frames, media_records
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_doctor, make_study, seeding
from tests.media_samples import VideoSpec, make_video, reference_frames

SPEC = VideoSpec("h264_30fps_mp4", fps=30, frames=30, extra=("-bf", "0"))


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_a_still_asked_for_by_time_is_the_frame_its_timestamp_names(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    path = make_video(SPEC, tmp_path / "videos")
    truth = reference_frames(path)
    with seeding(uow_factory) as session:
        doctor = make_doctor(session)
        study = make_study(session, doctor)
    actor = actor_for(doctor)
    store = MediaStore(tmp_path / "media")  # beside the store's database, as in a data folder
    stored = store.copy_in(path)
    video: uuid.UUID = media_records.create_media(
        uow_factory,
        actor,
        study.id,
        filename=path.name,
        file_path=stored.key,
        file_size=stored.size,
        mime_type="video/mp4",
    ).id

    by_time = extraction.extract_frame(uow_factory, actor, store, video, at_seconds=0.033)
    assert (by_time.frame.timestamp_seconds, by_time.frame.frame_index) == (0.033, 1)
    pixels = decode_jpeg(store.path(by_time.frame.still.file_path).read_bytes())
    assert _mse(pixels, truth[1]) < _mse(pixels, truth[0])  # frame 1, not frame 0
    assert by_time.frame.still.readable_name == "Still at 0:00.033 (frame 1)"

    by_number = extraction.extract_frame(uow_factory, actor, store, video, frame_number=1)
    assert not by_number.created and by_number.frame.id == by_time.frame.id
    listed = frames.list_frames(uow_factory, actor, video)
    assert [(f.frame_index, f.timestamp_seconds) for f in listed] == [(1, 0.033)]
