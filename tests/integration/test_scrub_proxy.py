"""The scrubbing proxy: every frame of the original, small, at the same index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.core.progress import CancelledError, CancelToken, Progress
from iamedic_desktop.media.scrub_proxy import ScrubProxy, build_scrub_proxy
from tests.media_samples import VIDEO_SPECS, make_video, reference_frames


def _nearest(small: np.ndarray, frames: list[np.ndarray], around: int) -> int:
    import cv2

    size = (small.shape[1], small.shape[0])
    window = range(max(0, around - 3), min(len(frames), around + 4))
    diffs = [
        np.abs(cv2.resize(frames[m], size, interpolation=cv2.INTER_AREA).astype(int) - small).mean()
        for m in window
    ]
    return window[int(np.argmin(diffs))]


@pytest.mark.parametrize("name", ["vfr_mp4", "rotated_phone_mp4"])
def test_proxy_frame_n_is_frame_n_smaller(tmp_path: Path, name: str) -> None:
    video = make_video(VIDEO_SPECS[name], tmp_path)
    reference = reference_frames(video)
    reports: list[Progress] = []
    proxy_path = build_scrub_proxy(video, cache_dir=tmp_path / "cache", progress=reports.append)
    assert reports and reports[-1].fraction == 1.0
    with ScrubProxy(proxy_path, len(reference)) as proxy:
        assert proxy.height == 180
        assert proxy.width == (102 if name == "rotated_phone_mp4" else 240)
        for n in range(len(reference)):
            assert _nearest(proxy.frame(n), reference, n) == n
    made = proxy_path.stat().st_mtime_ns
    assert build_scrub_proxy(video, cache_dir=tmp_path / "cache") == proxy_path
    assert proxy_path.stat().st_mtime_ns == made  # found, not made again


def test_cancelled_proxy_leaves_nothing(tmp_path: Path) -> None:
    video = make_video(VIDEO_SPECS["h264_mp4"], tmp_path)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        build_scrub_proxy(video, cache_dir=tmp_path / "cache", cancel=token)
    assert list((tmp_path / "cache").rglob("*.mp4")) == []
