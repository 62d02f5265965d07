"""Fetching the files of pulled media: streamed from central storage (real PostgreSQL), verified,
probed, recorded without an outbox entry, and then usable by the services that open files; a
damaged central copy is refused and leaves nothing behind."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from iamedic_desktop.core.errors import CentralDatabaseError, InvalidInputError
from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.models import Media, MediaFile, MediaType, OutboxEntry, UploadStatus
from iamedic_desktop.services import media_fetch
from iamedic_desktop.services.extraction import extract_frame
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.maintenance import orphans_folder, run_startup_maintenance
from iamedic_desktop.services.media_fetch import (
    central_files,
    fetch_media,
    fetch_target,
    remote_media_ids,
)
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.sync.central_files import CHUNK, CentralFiles, open_central_files
from tests.media_samples import VideoSpec, ffprobe_json, make_image, make_video
from tests.support.pulled_media import pull_media, put_central, sha256_file

pytestmark = pytest.mark.postgres

# Two 1 MiB chunks and a bit: every intra frame at lossless quality.
BIG_VIDEO = VideoSpec(
    "fetch_big_mp4",
    width=640,
    height=480,
    frames=25,
    gop=1,
    pix_fmt="yuv444p",
    extra=("-qp", "0", "-bf", "0", "-preset", "ultrafast"),
)


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    yield engine
    engine.dispose()


@pytest.fixture
def files(engine: Engine) -> CentralFiles:
    upgrade_central(engine, file_storage="database")
    return open_central_files(Settings(central_media_dir=None), engine.connect)


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


def _outbox_rows(store: LocalStore, media_id: uuid.UUID) -> int:
    with store.uow() as uow:
        query = select(func.count()).where(OutboxEntry.row_id == media_id)
        return int(uow.session.scalar(query) or 0)


def _pulled_video(
    store: LocalStore, files: CentralFiles, tmp_path: Path
) -> tuple[uuid.UUID, uuid.UUID, Path, str]:
    study = create_study(store.uow, store.actor, "Pulled")
    source = make_video(BIG_VIDEO, tmp_path / "central")
    assert source.stat().st_size > 1.5 * CHUNK  # streamed in more than one chunk
    media_id = pull_media(store, study.id, source, MediaType.VIDEO, "video/mp4")
    return study.id, media_id, source, put_central(store, files, media_id, source)


def test_a_pulled_video_is_fetched_verified_probed_and_then_used(
    store: LocalStore, files: CentralFiles, tmp_path: Path
) -> None:
    study_id, media_id, source, key = _pulled_video(store, files, tmp_path)
    assert remote_media_ids(store.uow, study_id) == [media_id]
    assert fetch_target(store.uow, store.actor, "Pulled") == study_id
    assert fetch_target(store.uow, store.actor, str(media_id)) == media_id
    seen: list[Progress] = []

    report = fetch_media(store.uow, store.media, files, [media_id], progress=seen.append)

    assert [m.id for m in report.fetched] == [media_id]
    assert (report.refused, report.already_local, report.warnings) == ([], [], [])
    assert report.fetched_bytes == source.stat().st_size
    assert store.media.path(key).read_bytes() == source.read_bytes()
    assert store.media.partial_files() == []
    with store.uow() as uow:
        record = uow.session.get_one(MediaFile, key)
        status = uow.session.get_one(Media, media_id).upload_status
    assert (record.sha256, record.size) == (sha256_file(source), source.stat().st_size)
    probe = json.loads(record.probe_json or "{}")
    truth = ffprobe_json(source)
    assert (probe["width"], probe["height"]) == (640, 480)
    assert probe["duration"] == pytest.approx(float(truth["format"]["duration"]))  # type: ignore[index]
    assert status is UploadStatus.UPLOADED
    assert _outbox_rows(store, media_id) == 0  # nothing of a fetch is pushed
    assert remote_media_ids(store.uow, study_id) == []
    assert seen[-1].done == seen[-1].total == source.stat().st_size
    assert [p.done for p in seen] == sorted(p.done for p in seen)

    still = extract_frame(store.uow, store.actor, store.media, media_id, frame_number=10)
    assert still.frame.still.media_type is MediaType.FRAME
    assert store.media.exists(still.frame.still.file_path)
    maintenance = run_startup_maintenance(store.uow, store.media)
    assert (maintenance.missing, maintenance.moved_orphans) == ([], [])
    again = fetch_media(store.uow, store.media, files, [media_id])
    assert ([m.id for m in again.already_local], again.fetched) == ([media_id], [])


def test_a_corrupted_central_chunk_is_refused_and_nothing_is_kept(
    store: LocalStore, files: CentralFiles, engine: Engine, tmp_path: Path
) -> None:
    study_id, media_id, _source, key = _pulled_video(store, files, tmp_path)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE workstation.file_chunks SET data = :d WHERE file_path = :k AND seq = 1"),
            {"d": b"\x00" * CHUNK, "k": key},
        )

    report = fetch_media(store.uow, store.media, files, [media_id])

    assert report.fetched == []
    assert [(r.media.id, "damaged" in r.reason) for r in report.refused] == [(media_id, True)]
    assert store.media.keys() == [] and store.media.partial_files() == []
    with store.uow() as uow:
        assert uow.session.get(MediaFile, key) is None
    assert remote_media_ids(store.uow, study_id) == [media_id]  # still to fetch
    assert run_startup_maintenance(store.uow, store.media).missing == []


def test_an_image_the_web_stored_is_checked_by_its_size(
    store: LocalStore, engine: Engine, tmp_path: Path
) -> None:
    web_folder = tmp_path / "web-media"
    web_folder.mkdir()
    upgrade_central(engine, file_storage="directory")
    files = open_central_files(Settings(central_media_dir=web_folder), engine.connect)
    study = create_study(store.uow, store.actor, "Web")
    source = make_image(tmp_path / "web", "scan.png", size=(200, 120))
    good = pull_media(store, study.id, source, MediaType.IMAGE, "image/png")
    short = pull_media(store, study.id, source, MediaType.IMAGE, "image/png")
    with store.uow() as uow:
        keys = {m: uow.session.get_one(Media, m).file_path for m in (good, short)}
    (web_folder / keys[good]).write_bytes(source.read_bytes())  # no workstation.files row
    (web_folder / keys[short]).write_bytes(source.read_bytes()[:-10])

    report = fetch_media(store.uow, store.media, files, [good, short])

    assert [m.id for m in report.fetched] == [good]
    assert [r.media.id for r in report.refused] == [short]
    assert store.media.path(keys[good]).read_bytes() == source.read_bytes()
    assert not store.media.exists(keys[short])
    with store.uow() as uow:
        record = uow.session.get_one(MediaFile, keys[good])
    assert (record.sha256, record.probe_json) == (sha256_file(source), None)


def test_a_file_left_without_its_record_is_checked_against_the_central_copy(
    store: LocalStore, files: CentralFiles, tmp_path: Path
) -> None:
    _study_id, media_id, source, key = _pulled_video(store, files, tmp_path)
    store.media.write_bytes(b"not the central copy", key)  # a stranger under the key

    report = fetch_media(store.uow, store.media, files, [media_id])

    assert [m.id for m in report.fetched] == [media_id]
    assert store.media.path(key).read_bytes() == source.read_bytes()
    assert (orphans_folder(store.media) / key).read_bytes() == b"not the central copy"


def test_a_fetch_cancelled_midway_keeps_nothing_half_written(
    store: LocalStore, files: CentralFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _study_id, media_id, _source, _key = _pulled_video(store, files, tmp_path)
    monkeypatch.setattr(media_fetch, "PROGRESS_INTERVAL_S", 0.0)  # a report per chunk
    token = CancelToken()

    def cancel_midway(progress: Progress) -> None:
        if progress.done > 0:
            token.cancel()

    report = fetch_media(
        store.uow, store.media, files, [media_id], progress=cancel_midway, cancel=token
    )

    assert (report.cancelled, report.not_reached, report.fetched) == (True, [media_id], [])
    assert store.media.keys() == [] and store.media.partial_files() == []


def test_no_central_database_or_an_unreachable_one_is_one_clear_sentence() -> None:
    with pytest.raises(InvalidInputError, match="No central database is configured"):
        central_files(Settings()).__enter__()
    closed = Settings(central_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(CentralDatabaseError, match="cannot be reached") as caught:
        central_files(closed).__enter__()
    assert "\n" not in caught.value.message


def test_a_verified_file_that_cannot_be_shown_is_kept_with_a_warning(
    store: LocalStore, files: CentralFiles, tmp_path: Path
) -> None:
    study = create_study(store.uow, store.actor, "Odd")
    source = tmp_path / "odd.mp4"
    source.write_bytes(b"not a video at all " * 1000)
    media_id = pull_media(store, study.id, source, MediaType.VIDEO, "video/mp4")
    key = put_central(store, files, media_id, source)

    report = fetch_media(store.uow, store.media, files, [media_id])

    assert [m.id for m in report.fetched] == [media_id]
    assert len(report.warnings) == 1 and "cannot be shown" in report.warnings[0]
    with store.uow() as uow:
        record = uow.session.get_one(MediaFile, key)
    assert (record.sha256, record.probe_json) == (sha256_file(source), None)
    assert remote_media_ids(store.uow, study.id) == []


@pytest.mark.parametrize("recorded", ["same", "other"])
def test_a_lost_file_comes_back_only_as_the_one_recorded_here(
    store: LocalStore, files: CentralFiles, tmp_path: Path, recorded: str
) -> None:
    study_id, media_id, source, key = _pulled_video(store, files, tmp_path)
    sha = sha256_file(source) if recorded == "same" else "0" * 64
    with store.uow() as uow:  # stored here once, then lost: maintenance marked it failed
        uow.session.add(MediaFile(file_path=key, sha256=sha, size=source.stat().st_size))
        uow.commit()
    assert run_startup_maintenance(store.uow, store.media).newly_failed == 1

    report = fetch_media(store.uow, store.media, files, [media_id])

    if recorded == "same":
        assert [m.id for m in report.fetched] == [media_id]
        assert run_startup_maintenance(store.uow, store.media).restored == 1
    else:
        assert "not the one this workstation recorded" in report.refused[0].reason
        assert not store.media.exists(key) and store.media.partial_files() == []
    assert remote_media_ids(store.uow, study_id) == []  # it has its record either way
