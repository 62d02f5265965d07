"""A still the web wrote is placed in its video by its timestamp: names, markers, the CLI.

The web's manual extraction writes ``frame_number`` = its count of the video's stills + 1. Here
that is 7, while the still's timestamp, 1.68 s of a 25 fps video, is frame 42: everything a
user reads says frame 42 (spec: "What the web does to shared rows").
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.media.probe import probe_video
from iamedic_desktop.media.video_source import VideoFrameSource
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.annotation_workflow import previous_annotated_boxes
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.media_records import create_media, list_media
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.ui.timeline_markers import load_markers
from tests.e2e.cli_support import json_of
from tests.media_samples import VIDEO_SPECS, make_video
from tests.support.pulled_stills import pulled_still

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
WEB_NUMBER = 7  # the web's "7th still of this video"
AT = 1.68  # frame 42 of a 25 fps video


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("web_stills")
    return {name: make_video(VIDEO_SPECS[name], folder) for name in ("h264_mp4", "vfr_mp4")}


@dataclass
class Scene:
    """A study in the CLI's own store with one video and the web's still of it."""

    store: LocalStore
    study: str
    video: uuid.UUID
    still: uuid.UUID


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


def _scene(
    store: LocalStore, path: Path, *, file_here: bool = True, probe: bool = True, at: float = AT
) -> Scene:
    alias = f"Web {uuid.uuid4().hex[:6]}"
    study = create_study(store.uow, store.actor, alias)
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
    if probe:  # what an import (or a fetch) records of the file
        with store.uow() as uow:
            record = MediaFile(
                file_path=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                probe_json=probe_video(store.media.path(stored.key)).to_json(),
            )
            uow.session.add(record)
            uow.commit()
    if not file_here:  # a pulled video whose file is not fetched yet
        store.media.path(stored.key).unlink()
    still = pulled_still(store.engine, video.id, timestamp_seconds=at, frame_number=WEB_NUMBER)
    return Scene(store, alias, video.id, still)


def _name(scene: Scene) -> str:
    stills = list_media(scene.store.uow, scene.store.actor, scene.study, media_type="frame")
    return next(m.readable_name for m in stills if m.id == scene.still)


def _cli_frame(run_cli: CliRunner, scene: Scene) -> tuple[str, object]:
    """The FRAME column of ``iamedic frames list`` and the JSON listing's ``frame_index``."""
    table = run_cli("frames", "list", str(scene.video))
    assert table.returncode == 0, table.stderr
    header, row, _count = table.stdout.splitlines()
    column = header.split().index("FRAME")
    listing = json_of(run_cli("frames", "list", str(scene.video), "--json"))
    (item,) = listing["items"]
    assert item["frame_number"] == WEB_NUMBER  # the row as stored; no reader trusts it
    return row.split()[column], item["frame_index"]


def test_the_web_still_reads_as_frame_42_everywhere(
    run_cli: CliRunner, store: LocalStore, videos: dict[str, Path]
) -> None:
    scene = _scene(store, videos["h264_mp4"])
    annotation_service.add_box(
        store.uow, store.actor, scene.still, bb_class="CM", x_min=10, y_min=10, width=50, height=40
    )
    assert _name(scene) == "Still at 0:01.680 (frame 42)"
    markers = load_markers(store, scene.video)
    assert (markers["still"], markers["annotated"]) == ([42], [42])
    assert _cli_frame(run_cli, scene) == ("42", 42)
    # "Copy the previous frame's boxes": frame 43 finds it, frame 42 (itself) and 8 do not.
    found = previous_annotated_boxes(store.uow, store.actor, scene.video, frame_number=43)
    assert found is not None and (found.source_media_id, found.frame_number) == (scene.still, 42)
    for frame in (42, WEB_NUMBER + 1):
        found = previous_annotated_boxes(store.uow, store.actor, scene.video, frame_number=frame)
        assert found is None, frame


def test_without_a_probe_the_players_own_timing_places_it(
    run_cli: CliRunner, store: LocalStore, videos: dict[str, Path]
) -> None:
    scene = _scene(store, videos["h264_mp4"], probe=False)  # file here, no media_files record
    assert _name(scene) == "Still at 0:01.680 (frame 42)"
    assert load_markers(store, scene.video)["still"] == [42]
    assert _cli_frame(run_cli, scene) == ("42", 42)


def test_on_a_variable_rate_video_the_frame_is_the_one_the_player_shows(
    store: LocalStore, videos: dict[str, Path]
) -> None:
    path = videos["vfr_mp4"]
    with VideoFrameSource(path, readahead=0, cache_index=False) as source:
        times = [source.timestamp(n) for n in range(source.frame_count)]
        assert probe_video(path).is_vfr
        # A time between two frames whose index differs from timestamp x average rate.
        n = next(
            k
            for k in reversed(range(1, len(times) - 1))
            if round(times[k] * source.fps) != k and times[k + 1] - times[k] > 0.004
        )
        at = round(times[n] + 0.002, 3)
        assert source.index_at(at) == n
    scene = _scene(store, path, at=at)
    assert _name(scene) == f"Still at 0:{at:06.3f} (frame {n})"
    assert load_markers(store, scene.video)["still"] == [n]


def test_a_video_not_fetched_yet_shows_only_the_time(
    run_cli: CliRunner, store: LocalStore, videos: dict[str, Path]
) -> None:
    scene = _scene(store, videos["h264_mp4"], file_here=False, probe=False)
    assert _name(scene) == "Still at 0:01.680"
    assert load_markers(store, scene.video)["still"] == []  # nowhere to put it
    assert _cli_frame(run_cli, scene) == ("-", None)
