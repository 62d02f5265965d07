"""Media rows as sync pulls them into the local store (no file, no ``media_files`` record), and
their files put in central storage."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from sqlalchemy import insert

from iamedic_desktop.models import Media, MediaType, UploadStatus
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.sync.central_files import CentralFiles


def sha256_file(path: Path) -> str:
    """The SHA-256 of a small test file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pull_media(
    store: LocalStore, study_id: uuid.UUID, source: Path, media_type: MediaType, mime: str
) -> uuid.UUID:
    """A media row sized like ``source``, written by plain SQL: no outbox entry, no file."""
    media_id = uuid.uuid4()
    with store.engine.begin() as conn:
        conn.execute(
            insert(Media).values(
                id=media_id,
                study_id=study_id,
                filename=f"pulled{source.suffix}",
                file_path=str(uuid.uuid4()),
                file_size=source.stat().st_size,
                mime_type=mime,
                media_type=media_type,
                upload_status=UploadStatus.UPLOADED,
                is_active=True,
            )
        )
    return media_id


def put_central(store: LocalStore, files: CentralFiles, media_id: uuid.UUID, source: Path) -> str:
    """Put ``source`` in central storage under the media's key; returns the key."""
    with store.uow() as uow:
        key = uow.session.get_one(Media, media_id).file_path
    files.put(key, source, source.stat().st_size, sha256_file(source))
    return key
