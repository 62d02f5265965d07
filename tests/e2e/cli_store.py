"""The CLI's own store, filled directly for tests of commands that act on media."""

from __future__ import annotations

import uuid
from pathlib import Path

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import open_local_store


def store_media(path: Path, mime: str) -> str:
    """A study in the CLI's own store holding ``path`` as a media row; returns the media id."""
    from iamedic_desktop.services.media_records import create_media
    from iamedic_desktop.services.studies import create_study

    store = open_local_store(get_settings())
    try:
        study = create_study(store.uow, store.actor, f"Study {uuid.uuid4().hex[:6]}")
        stored = store.media.copy_in(path)
        media = create_media(
            store.uow,
            store.actor,
            study.id,
            filename=path.name,
            file_path=stored.key,
            file_size=stored.size,
            mime_type=mime,
        )
    finally:
        store.close()
    return str(media.id)
