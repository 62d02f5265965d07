"""``iamedic frames extract V --at -0``: the still is at 0.000 s, named and stored as zero."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import open_local_store
from tests.media_samples import VIDEO_SPECS, make_video

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def test_at_minus_zero_is_zero(run_cli: CliRunner, tmp_path: Path) -> None:
    from iamedic_desktop.services.media_records import create_media
    from iamedic_desktop.services.studies import create_study

    path = make_video(VIDEO_SPECS["h264_mp4"], tmp_path)
    store = open_local_store(get_settings())
    try:
        study = create_study(store.uow, store.actor, f"Study {uuid.uuid4().hex[:6]}")
        stored = store.media.copy_in(path)
        video = create_media(
            store.uow,
            store.actor,
            study.id,
            filename=path.name,
            file_path=stored.key,
            file_size=stored.size,
            mime_type="video/mp4",
        )
    finally:
        store.close()
    result = run_cli("frames", "extract", str(video.id), "--at", "-0", "--json")
    assert result.returncode == 0, result.stderr
    frame = json.loads(result.stdout)["frame"]
    assert "-0" not in json.dumps(frame["timestamp_seconds"])
    assert f"_{video.id}_0.000s_" in frame["still"]["filename"], frame["still"]["filename"]
