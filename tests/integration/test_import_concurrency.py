"""Two imports of the same files into one study at once: each file is recorded once, the other
import reports it as a duplicate, and no stored file is left without its row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from iamedic_desktop.core.errors import ConflictError
from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import Media, MediaFile, Study
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.media_records import delete_media
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import make_media
from tests.media_samples import make_image

FILES = 40


def _record(uow_factory: UnitOfWorkFactory, study_id: uuid.UUID, source: str) -> uuid.UUID:
    """A media row and its media_files row for content ``source``, committed."""
    with uow_factory() as uow:
        media = make_media(uow.session, uow.session.get_one(Study, study_id))
        uow.session.add(
            MediaFile(
                file_path=media.file_path,
                sha256="0" * 64,
                source_sha256=source,
                size=media.file_size,
                active_study_id=study_id,
            )
        )
        commit_or_conflict(uow, "The file could not be recorded.")
        return media.id


def test_the_store_itself_refuses_a_second_active_copy_of_a_content() -> None:
    store = open_local_store(get_settings())
    try:
        study = create_study(store.uow, store.actor, "Unique")
        first = _record(store.uow, study.id, "a" * 64)
        with pytest.raises(ConflictError):
            _record(store.uow, study.id, "a" * 64)
        other = create_study(store.uow, store.actor, "Other")
        _record(store.uow, other.id, "a" * 64)  # another study may hold the same content
        delete_media(store.uow, store.actor, first)  # a deleted media no longer counts
        _record(store.uow, study.id, "a" * 64)
    finally:
        store.close()


@pytest.mark.slow
def test_two_imports_of_one_folder_at_once_record_each_file_once(tmp_path: Path) -> None:
    settings = get_settings()
    store = open_local_store(settings)
    create_study(store.uow, store.actor, "Twice")
    store.close()
    folder = tmp_path / "exam"
    for n in range(FILES):
        make_image(folder, f"scan_{n:03}.png", size=(32 + n, 24))
    command = [sys.executable, "-m", "iamedic_desktop", "import", "Twice", str(folder), "--json"]
    importers = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ}
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in importers]
    for importer, (_, err) in zip(importers, outputs, strict=True):
        assert importer.returncode == 0, err.decode()
    reports = [json.loads(out) for out, _ in outputs]

    store = open_local_store(settings)
    try:
        with store.uow() as uow:
            rows = uow.session.scalar(select(func.count()).select_from(Media))
            keys = set(uow.session.scalars(select(Media.file_path)))
        assert rows == FILES
        assert set(store.media.stored_keys()) == keys
        assert sum(len(r["imported"]) for r in reports) == FILES
        for report in reports:
            assert len(report["imported"]) + len(report["duplicates"]) == FILES
            assert report["refused"] == []
    finally:
        store.close()
