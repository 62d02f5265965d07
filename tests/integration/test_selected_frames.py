"""``iter_selected``: the chosen frames, exactly, on a video (fast path) and a DICOM cine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.media.open_source import open_frame_source
from iamedic_desktop.media.selected_frames import iter_selected
from tests.media_samples import VIDEO_SPECS, make_video, reference_frames


@pytest.fixture(scope="module")
def vfr_bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(VIDEO_SPECS["vfr_mp4"], tmp_path_factory.mktemp("selected"))


@pytest.mark.parametrize(
    "indices", [[0], [0, 7, 8, 23, 59], [13], [59], list(range(3, 60, 4))], ids=str
)
def test_video_frames_are_the_reference_frames(vfr_bframes: Path, indices: list[int]) -> None:
    reference = reference_frames(vfr_bframes)
    source = open_frame_source(vfr_bframes)
    try:
        got = list(iter_selected(source, vfr_bframes, indices))
    finally:
        source.close()
    assert [n for n, _ in got] == indices
    for n, pixels in got:
        assert np.array_equal(pixels, reference[n]), f"frame {n}"


def test_a_dicom_cine_goes_through_its_own_frames() -> None:
    from pydicom.data import get_testdata_file

    found = get_testdata_file("examples_ybr_color.dcm")  # a 30-frame cine
    assert isinstance(found, str)
    path = Path(found)
    source = open_frame_source(path)
    try:
        got = list(iter_selected(source, path, [0, 5, 29]))
        expected = [source.frame(n) for n in (0, 5, 29)]
    finally:
        source.close()
    assert [n for n, _ in got] == [0, 5, 29]
    for (_, pixels), frame in zip(got, expected, strict=True):
        assert np.array_equal(pixels, frame)


def test_tick_sees_every_decoded_frame_and_can_stop(vfr_bframes: Path) -> None:
    ticks: list[int] = []

    def tick(n: int) -> bool:
        ticks.append(n)
        return n < 20

    source = open_frame_source(vfr_bframes)
    try:
        got = [n for n, _ in iter_selected(source, vfr_bframes, [4, 10, 20, 30], tick)]
        nothing = list(iter_selected(source, vfr_bframes, []))
    finally:
        source.close()
    assert ticks == list(range(4, 21))  # from the first chosen frame, stopping at 20
    assert got == [4, 10]
    assert nothing == []
