"""Shared pieces of the study browser's GUI tests: a real local store with real runners, and
media rows made through the services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import MediaType
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.media_records import create_media
from iamedic_desktop.ui.operations import OperationRunner

WAIT_MS = 20_000
IMPORT_WAIT_MS = 120_000


@dataclass
class BrowserEnv:
    """The store the window would open and the window's two runners."""

    store: LocalStore
    database: OperationRunner
    workers: OperationRunner


@contextmanager
def browser_env(qtbot: QtBot) -> Iterator[BrowserEnv]:
    """A real local store in the isolated home and real runners, shut down at the end."""
    store = open_local_store(get_settings())
    database = OperationRunner(max_threads=1)
    workers = OperationRunner(max_threads=2)
    try:
        yield BrowserEnv(store, database, workers)
        # Nothing may be left running: wait for the last answers, as a user would.
        qtbot.waitUntil(lambda: database.is_idle() and workers.is_idle(), timeout=WAIT_MS)
    finally:
        workers.shutdown()
        database.shutdown(last=store.close)


def add_widget(qtbot: QtBot, env: BrowserEnv, widget: QWidget) -> None:
    """``qtbot.addWidget``, and before it closes the widget, wait for the runners' last answers
    (pytest-qt closes widgets before fixtures end; the window shuts its runners down first)."""
    qtbot.addWidget(
        widget,
        before_close_func=lambda _widget: qtbot.waitUntil(
            lambda: env.database.is_idle() and env.workers.is_idle(), timeout=WAIT_MS
        ),
    )


def add_media(
    store: LocalStore, study_id: uuid.UUID, kind: MediaType = MediaType.IMAGE, name: str = ""
) -> MediaDTO:
    """A media row (its file is not needed by the listing) made through the media service."""
    mime = {MediaType.IMAGE: "image/png", MediaType.VIDEO: "video/mp4"}[kind]
    return create_media(
        store.uow,
        store.actor,
        study_id,
        filename=name or f"{kind.value}-{uuid.uuid4().hex[:6]}",
        file_path=str(uuid.uuid4()),
        file_size=4096,
        mime_type=mime,
    )
