"""Start-up maintenance: unfinished writes go, files no row names are moved aside (never
deleted), rows whose file is missing stay (marked failed, with their annotations), rows pulled
from the central database whose file was never fetched are left alone, and nothing is touched
while another process writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import (
    Media,
    MediaFile,
    OutboxEntry,
    PictureBBAnnotation,
    PictureClassificationAnnotation,
    Study,
    UploadStatus,
    User,
)
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.maintenance import (
    media_write_lock,
    orphans_folder,
    run_startup_maintenance,
)
from iamedic_desktop.services.studies import create_study
from tests.factories import make_box, make_media, make_usefulness, seeding
from tests.media_samples import make_image


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


@dataclass(frozen=True)
class Scene:
    """What ``_scene`` left in the store."""

    kept: MediaDTO
    lost_id: uuid.UUID
    partial: Path
    orphan: str
    orphan_bytes: bytes
    stranger: Path
    foreign_partial: Path


def _scene(store: LocalStore, tmp_path: Path) -> Scene:
    """One imported image, one annotated row whose file is gone, and leftovers on disk."""
    study = create_study(store.uow, store.actor, "Maintenance")
    kept = import_paths(
        store.uow,
        store.actor,
        store.media,
        study.alias,
        [make_image(tmp_path, "kept.png")],
        settings=store.settings,
    ).imported[0]
    with seeding(store.uow) as session:
        row = make_media(session, session.get_one(Study, study.id), filename="lost.png")
        make_usefulness(session, row)
        make_box(session, row, bb_class="NT")
        # Stored here once (its media_files record says so), then the file went.
        session.add(MediaFile(file_path=row.file_path, sha256="0" * 64, size=row.file_size))
        lost_id = row.id
    partial = store.media.scratch_path(".mp4")
    partial.write_bytes(b"half a video")
    orphan = store.media.write_bytes(b"stored, never recorded")
    stranger = store.media.root / "README.txt"  # not a storage key: not ours to judge
    stranger.write_text("left by a person")
    foreign_partial = store.media.root / "export.partial"  # not our temp file either
    foreign_partial.write_text("a person's half copy")
    data = store.media.path(orphan.key).read_bytes()
    return Scene(kept, lost_id, partial, orphan.key, data, stranger, foreign_partial)


def _assert_set_aside(store: LocalStore, scene: Scene) -> None:
    """The orphan is in today's orphans folder, intact, and no longer in the store."""
    assert not store.media.exists(scene.orphan)
    moved = orphans_folder(store.media) / scene.orphan
    assert moved.read_bytes() == scene.orphan_bytes
    assert orphans_folder(store.media).parent == store.settings.data_dir / "orphans"


def test_leftovers_go_and_a_missing_file_marks_its_row_failed(
    store: LocalStore, tmp_path: Path
) -> None:
    scene = _scene(store, tmp_path)
    report = run_startup_maintenance(store.uow, store.media)
    assert report.files_checked
    assert report.removed_partials == [scene.partial.name]
    assert report.moved_orphans == [scene.orphan]
    _assert_set_aside(store, scene)
    assert [m.id for m in report.missing] == [scene.lost_id]
    assert report.missing[0].upload_status is UploadStatus.FAILED and report.newly_failed == 1
    kept = scene.kept
    assert store.media.keys() == sorted([kept.file_path, "README.txt", "export.partial"])
    assert store.media.partial_files() == []
    assert scene.stranger.exists() and scene.foreign_partial.exists()
    with store.uow() as uow:
        lost = uow.session.get_one(Media, scene.lost_id)
        assert (lost.upload_status, lost.is_active) == (UploadStatus.FAILED, True)
        labels = uow.session.scalar(
            select(func.count()).where(PictureClassificationAnnotation.media_id == lost.id)
        )
        boxes = uow.session.scalar(
            select(func.count()).where(PictureBBAnnotation.media_id == lost.id)
        )
        assert (labels, boxes) == (1, 1)
        assert uow.session.get_one(Media, kept.id).upload_status is UploadStatus.UPLOADED
    again = run_startup_maintenance(store.uow, store.media)
    assert (again.newly_failed, [m.id for m in again.missing]) == (0, [scene.lost_id])
    assert again.removed_partials == again.moved_orphans == []


def test_opening_the_store_runs_maintenance(store: LocalStore, tmp_path: Path) -> None:
    scene = _scene(store, tmp_path)
    store.close()
    reopened = open_local_store(get_settings())
    try:
        assert reopened.media.partial_files() == []
        _assert_set_aside(reopened, scene)
        with reopened.uow() as uow:
            lost = uow.session.get_one(Media, scene.lost_id)
            assert lost.upload_status is UploadStatus.FAILED
            assert uow.session.scalar(select(func.count()).select_from(User)) == 1
    finally:
        reopened.close()


def test_files_are_left_alone_while_another_writer_holds_the_lock(
    store: LocalStore, tmp_path: Path
) -> None:
    scene = _scene(store, tmp_path)
    with media_write_lock(store.media):  # an import in progress elsewhere
        busy = run_startup_maintenance(store.uow, store.media)
        assert not busy.files_checked
        assert busy.removed_partials == busy.moved_orphans == []
        assert scene.partial.exists()
        assert store.media.exists(str(scene.orphan))
        assert busy.newly_failed == 1  # marking a missing file needs no lock
    later = run_startup_maintenance(store.uow, store.media)
    assert later.files_checked and later.moved_orphans == [scene.orphan]
    _assert_set_aside(store, scene)


def _pulled_media(store: LocalStore) -> uuid.UUID:
    """A media row as sync pulls it: no file in the store and no media_files record."""
    study = create_study(store.uow, store.actor, "Pulled")
    with seeding(store.uow) as session:
        row = make_media(session, session.get_one(Study, study.id), filename="remote.png")
        make_usefulness(session, row)
        session.query(OutboxEntry).delete()  # pulled rows are not local changes
        return row.id


def test_a_pulled_media_whose_file_is_not_fetched_yet_is_left_alone(
    store: LocalStore, tmp_path: Path
) -> None:
    scene = _scene(store, tmp_path)
    remote_id = _pulled_media(store)

    report = run_startup_maintenance(store.uow, store.media)

    assert [m.id for m in report.missing] == [scene.lost_id]
    assert report.newly_failed == 1
    with store.uow() as uow:
        remote = uow.session.get_one(Media, remote_id)
        assert remote.upload_status is UploadStatus.UPLOADED
        pushed = uow.session.scalars(select(OutboxEntry.row_id)).all()
        assert remote_id not in pushed
