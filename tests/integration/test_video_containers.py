"""Videos in every container the workstation takes in, MPEG transport streams included: each is
recognised by its content, comes in as a browser-playable file with every frame at its own
time, and its row names the stored file's type."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.media.sniff import sniff
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests.integration.test_import import assert_browser_playable, frame_times
from tests.media_samples import CONTAINER_SPECS, make_video


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("containers")


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


def intervals(times: list[float]) -> list[float]:
    """Each frame's time from the first one (a transport stream starts at 1.4 s, say)."""
    return [round(t - times[0], 3) for t in times]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONTAINER_SPECS))
def test_every_container_comes_in_playable_with_every_frame(
    store: LocalStore, media_dir: Path, name: str
) -> None:
    spec, mime = CONTAINER_SPECS[name]
    source = make_video(spec, media_dir)
    assert sniff(source).mime_type == mime
    study = create_study(store.uow, store.actor, name).alias
    report = import_paths(
        store.uow, store.actor, store.media, study, [source], settings=store.settings
    )
    assert report.refused == [], report.refused
    (media,) = report.imported
    stored = store.media.path(media.file_path)
    probe = assert_browser_playable(stored)
    assert media.mime_type == sniff(stored).mime_type == "video/mp4"
    assert media.file_size == stored.stat().st_size
    assert (probe.width, probe.height) == (spec.width, spec.height)
    ours, theirs = frame_times(stored), frame_times(source)
    assert len(ours) == len(theirs) == spec.frames
    assert intervals(ours) == intervals(theirs)


def test_a_transport_stream_is_known_by_its_packets_not_its_name(media_dir: Path) -> None:
    source = make_video(CONTAINER_SPECS["h264_ts"][0], media_dir)
    renamed = media_dir / "capture.bin"
    renamed.write_bytes(source.read_bytes())
    assert sniff(renamed).kind == "video"
    # The sync byte every 188 bytes, but only twice: not a transport stream.
    fake = media_dir / "fake.ts"
    fake.write_bytes((b"\x47" + bytes(187)) * 2 + bytes(4000))
    assert sniff(fake).kind is None
