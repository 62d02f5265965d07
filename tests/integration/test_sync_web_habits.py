"""The web's habits against the sync, on a deployment whose files live in the web's media folder.

- The web's start-up cleanup hard-deletes every media row whose file is not in its folder
  (``tests/support/web_cleanup.py``): run after pushes, at every step of a push, and over and
  over from another thread while a push of many media runs, it finds nothing to delete.
- The web's transactions commit in any order: a box save still open while a later one commits
  is pulled once it commits, and nothing is pulled twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services import annotations as labelling
from iamedic_desktop.services import imports, media_records, studies
from iamedic_desktop.sync.rows import table
from tests.media_samples import make_image
from tests.support import web_writes as web
from tests.support.sync_compare import annotations_by_key, scope_rows
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    install_central,
    sign_in_store,
    workstation,
    workstation_settings,
)
from tests.support.web_cleanup import web_startup_cleanup

pytestmark = pytest.mark.postgres

EMAIL = "doctor@example.org"
SIZE: dict[str, Any] = {"image_width": 64, "image_height": 48}


@pytest.fixture
def web_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "web_media"
    folder.mkdir()
    return folder


@pytest.fixture
def central(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    install_central(engine, "directory")
    yield engine
    engine.dispose()


def _settings(tmp_path: Path, name: str, url: str, web_folder: Path) -> Settings:
    settings = workstation_settings(tmp_path / name, url, central_media_dir=web_folder)
    sign_in_store(settings, EMAIL)
    return settings


def _import(ws: Workstation, folder: Path, count: int, alias: str) -> list[uuid.UUID]:
    """``count`` images (each its own pixels) imported into a new study, each labelled useful
    and given an NT box."""
    store = ws.store
    study = studies.create_study(store.uow, store.actor, alias)
    paths = [make_image(folder, f"{alias}-{i}.png", (64 + i, 48)) for i in range(count)]
    report = imports.import_paths(
        store.uow, store.actor, store.media, str(study.id), paths, settings=store.settings
    )
    ids = [m.id for m in report.imported]
    for media_id in ids:
        labelling.set_usefulness(store.uow, store.actor, media_id, 1)
        labelling.add_box(store.uow, store.actor, media_id, bb_class="NT", x_min=1, y_min=2,
                          width=20, height=15, **SIZE)  # fmt: skip
    return ids


def _central_media(central: Engine, doctor: uuid.UUID) -> int:
    return len(scope_rows(central, doctor)["media"])


def _all_files_there(central: Engine, web_folder: Path) -> bool:
    with central.connect() as conn:
        keys = conn.execute(select(table("media").c.file_path)).scalars().all()
    return all((web_folder / key).is_file() for key in keys)


def test_the_cleanup_is_live_on_this_deployment(central: Engine, web_folder: Path) -> None:
    doctor = add_doctor(central, EMAIL)
    with central.begin() as conn:
        web.insert_media(conn, web.insert_study(conn, doctor))  # a row whose file is not there
    assert web_startup_cleanup(central, web_folder) == 1  # the stand-in does delete
    assert _central_media(central, doctor) == 0


def test_the_web_cleanup_after_and_at_every_step_of_pushes_deletes_nothing(
    central: Engine, pg_database: str, tmp_path: Path, web_folder: Path
) -> None:
    doctor = add_doctor(central, EMAIL)
    points: list[tuple[str, int]] = []

    def cleanup(point: str) -> None:
        points.append((point, web_startup_cleanup(central, web_folder)))

    with workstation(_settings(tmp_path, "one", pg_database, web_folder)) as one:
        ids = _import(one, tmp_path / "images", 4, "Morning")
        lost = _import(one, tmp_path / "images", 1, "Lost")[0]
        key = media_records.get_media(one.store.uow, one.store.actor, lost).file_path
        one.store.media.path(key).unlink()  # this file is gone: its rows must wait
        one.engine.batch = 2  # more batches, more steps
        report = one.sync(checkpoint=cleanup)
        assert report.pushed.held >= 1 and report.pushed.files_sent == 4
    assert {p for p, _ in points} >= {"push:files-sent", "push:media:before-central-commit",
                                      "push:media:after-central-commit",
                                      "push:picture_bb_annotations:recorded"}  # fmt: skip
    assert [n for _, n in points if n] == []
    assert web_startup_cleanup(central, web_folder) == 0
    assert _central_media(central, doctor) == 4  # the "Lost" study's image waits
    assert len(annotations_by_key(central, doctor)) == 8

    # A second workstation pulls (files not fetched), edits the pulled media, pushes.
    points.clear()
    with workstation(_settings(tmp_path, "two", pg_database, web_folder)) as two:
        two.sync()
        store = two.store
        media_records.rename_media(store.uow, store.actor, ids[0], "renamed.png")
        labelling.update_box(store.uow, store.actor, ids[1], "NT", x_min=5, y_min=5, width=20,
                             height=15, **SIZE)  # fmt: skip
        labelling.set_usefulness(store.uow, store.actor, ids[2], 0)
        report = two.sync(checkpoint=cleanup)
        assert report.pushed.written + report.pushed.deleted == 4
        assert scope_rows(store.engine, doctor) == scope_rows(central, doctor)
    assert points and [n for _, n in points if n] == []
    assert web_startup_cleanup(central, web_folder) == 0
    assert _central_media(central, doctor) == 4 and _all_files_there(central, web_folder)


def test_the_web_cleanup_looping_throughout_a_push_of_many_media_deletes_nothing(
    central: Engine, pg_database: str, tmp_path: Path, web_folder: Path
) -> None:
    doctor = add_doctor(central, EMAIL)
    runs: list[tuple[float, int]] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            runs.append((time.monotonic(), web_startup_cleanup(central, web_folder)))

    with workstation(_settings(tmp_path, "one", pg_database, web_folder)) as one:
        _import(one, tmp_path / "images", 40, "Busy day")
        one.engine.batch = 4
        cleaner = threading.Thread(target=loop, name="web-cleanup")
        cleaner.start()
        try:
            started = time.monotonic()
            report = one.sync()
            ended = time.monotonic()
        finally:
            stop.set()
            cleaner.join(timeout=30)
        assert report.pushed.files_sent == 40
    during = [n for at, n in runs if started <= at <= ended]
    assert len(during) >= 3, "the cleanup must run while the push runs"
    assert [n for _, n in runs if n] == []
    assert _central_media(central, doctor) == 40 and _all_files_there(central, web_folder)
    assert len(annotations_by_key(central, doctor)) == 80


@pytest.mark.parametrize("batch", [1, 2000])
def test_a_web_save_committing_after_a_later_one_is_pulled_once_it_commits(
    central: Engine, pg_database: str, tmp_path: Path, web_folder: Path, batch: int
) -> None:
    doctor = add_doctor(central, EMAIL)
    with workstation(_settings(tmp_path, "one", pg_database, web_folder)) as one:
        first, second = _import(one, tmp_path / "images", 2, "Twins")
        one.sync()
        one.engine.batch = batch
        slow = central.connect()
        slow_tx = slow.begin()
        try:
            web.save_box_list(slow, first, {"CM": (9.0, 9.0, 12.0, 12.0)})  # open, not committed
            with central.begin() as fast:
                web.save_box_list(fast, second, {"IT": (3.0, 3.0, 11.0, 11.0)})
            report = one.sync(do_push=False)
            here = annotations_by_key(one.store.engine, doctor)
            assert ("box", str(second), "IT") in here  # the later commit is pulled
            assert ("box", str(first), "CM") not in here  # the open one is not visible yet
            assert ("box", str(first), "NT") in here
            slow_tx.commit()
        finally:
            slow.close()
        again = one.sync(do_push=False)
        # Exactly the late save: its NT removal and CM insertion, nothing of the earlier one.
        assert (again.pulled.applied, again.pulled.skipped) == (2, 0)
        here = annotations_by_key(one.store.engine, doctor)
        assert here[("box", str(first), "CM")] == (9.0, 9.0, 12.0, 12.0)
        assert ("box", str(first), "NT") not in here  # that save removed it
        assert here == annotations_by_key(central, doctor)
        assert scope_rows(one.store.engine, doctor) == scope_rows(central, doctor)
        assert one.sync(do_push=False).pulled.applied == 0  # nothing twice
        assert report.pulled.applied == 2
        with central.connect() as conn:
            boxes = table("picture_bb_annotations")
            count = conn.execute(select(func.count()).select_from(boxes)).scalar_one()
        assert count == 2
