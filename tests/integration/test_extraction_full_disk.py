"""Extraction on a real small tmpfs that fills up midway: a clear refusal, every still stored
before it kept whole with its record, no stray or half-written file, and the rest taken once
there is room again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.settings import get_settings, reset_settings_cache
from iamedic_desktop.media.storage import sha256_of
from iamedic_desktop.models import Media, MediaType
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.services.extraction import extract_every_frames
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from tests.e2e.cli_support import store_media
from tests.media_samples import VideoSpec, make_video
from tests.support.small_disk import fill, small_disk

SPEC = VideoSpec("full_disk_h264", width=640, height=480, frames=100, extra=("-bf", "0"))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStore]:
    with small_disk(tmp_path / "disk", "16m") as disk:
        monkeypatch.setenv("IAMEDIC_DATA_DIR", str(disk / "data"))
        reset_settings_cache()
        opened = open_local_store(get_settings())
        try:
            yield opened
        finally:
            opened.close()
            reset_settings_cache()


def _stills(store: LocalStore) -> list[tuple[Media, MediaFile | None]]:
    with store.uow() as uow:
        stills = uow.session.scalars(select(Media).where(Media.media_type == MediaType.FRAME))
        return [(s, uow.session.get(MediaFile, s.file_path)) for s in stills]


def _keys_match_rows(store: LocalStore) -> None:
    with store.uow() as uow:
        rows = sorted(uow.session.scalars(select(Media.file_path)))
    assert store.media.partial_files() == []
    assert sorted(store.media.stored_keys()) == rows  # no file without its row, and back


def test_a_disk_filling_up_midway_keeps_the_stills_made_and_leaves_no_stray_file(
    store: LocalStore, tmp_path: Path
) -> None:
    video = store_media(make_video(SPEC, tmp_path / "in"), "video/mp4")
    disk = store.settings.data_dir.parent
    filler = fill(disk, 600 * 1024)  # room for some stills of 640x480, not for 100

    with pytest.raises(IamedicError, match="full") as refused:
        extract_every_frames(store.uow, store.actor, store.media, video, 1)

    kept = _stills(store)
    assert 0 < len(kept) < SPEC.frames
    # Never only "nothing was saved" when stills were: the message says what is kept.
    message = str(refused.value)
    assert f"{len(kept)} of {SPEC.frames} stills" in message or "before them were" in message
    for still, record in kept:  # each still kept is whole, with its digest
        assert record is not None
        assert sha256_of(store.media.path(still.file_path)) == record.sha256
    _keys_match_rows(store)

    filler.unlink()  # with room again, the rest come; the stills kept are found, not doubled
    again = extract_every_frames(store.uow, store.actor, store.media, video, 1)
    assert (again.created, again.existing) == (SPEC.frames - len(kept), len(kept))
    _keys_match_rows(store)
