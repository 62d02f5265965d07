"""A doctor's workstation and the central database, each with work the other has not seen, for
sync fault tests: built once, then copied exactly for every fault.

The world: an approved doctor (and a second one, whose study must never reach this workstation),
studies with imported images, a video with stills taken by the real extraction, labels, boxes
and predictions made on the workstation; on the central side, studies, media (their files in
the web's media folder), predictions, labels and box saves written the web's way in plain SQL.
``synced=True`` syncs a first part before the rest is made, so the sync under test is a pull of
the feed plus a push; ``synced=False`` leaves the store never synced: a first full load plus a
push.

A copy is exact: the central database is cloned (``CREATE DATABASE ... TEMPLATE``), the data
folder and the web's media folder copied, so every copy passes the same checkpoints in the same
order as the dry run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.schemas.predictions import BoxPredictionIn
from iamedic_desktop.services import annotations as boxes
from iamedic_desktop.services import extraction, imports, predictions, studies
from iamedic_desktop.sync.engine import SyncReport
from tests.media_samples import VideoSpec, make_image, make_video
from tests.support import web_writes as web
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    install_central,
    sign_in_store,
    workstation,
    workstation_settings,
)

DOCTOR = "a@example.org"
OTHER_DOCTOR = "b@example.org"
CLASSES = ("CM", "IT", "NT", "midbrain", "nasal bone", "nasal skin", "nasal tip", "palate")
MODEL = "fetal-boxes - 3"
IMAGE = (64, 48)
BATCH = 20  # rows per batch: small, so a sync passes many checkpoints


@dataclass(frozen=True)
class World:
    """A world's folder (data folder ``ws``, web media folder ``web_media``) and central URL."""

    folder: Path
    central_url: str
    doctor_id: uuid.UUID

    @property
    def web_media(self) -> Path:
        """The web's media folder (central file storage of kind ``directory``)."""
        return self.folder / "web_media"

    def settings(self) -> Settings:
        """The workstation's settings."""
        return workstation_settings(
            self.folder / "ws", self.central_url, central_media_dir=self.web_media
        )

    def central(self) -> Engine:
        """A new engine on the world's central database (the caller disposes of it)."""
        return create_engine(self.central_url)

    def copy(self, folder: Path) -> World:
        """An exact copy in ``folder`` with a clone of the central database."""
        name = f"iamedic_t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.central_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                template = conn.execute(text("SELECT current_database()")).scalar_one()
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        finally:
            admin.dispose()
        url = make_url(self.central_url).set(database=name)
        shutil.copytree(self.folder / "ws", folder / "ws")
        shutil.copytree(self.web_media, folder / "web_media")
        return World(folder, url.render_as_string(hide_password=False), self.doctor_id)


def build(folder: Path, central_url: str, *, synced: bool) -> World:
    """Make the world in ``folder`` on the empty central database at ``central_url``."""
    central = create_engine(central_url)
    try:
        install_central(central, "directory")
        world = World(folder, central_url, add_doctor(central, DOCTOR))
        other = add_doctor(central, OTHER_DOCTOR)
        world.web_media.mkdir(parents=True)
        sign_in_store(world.settings(), DOCTOR)
        sources = folder / "sources"
        with central.begin() as conn:
            first_web = web_study(conn, world, world.doctor_id, "Web 1", media=2)
            web_study(conn, world, other, "Another doctor's", media=1)
        with workstation(world.settings()) as ws:
            base = _local_study(ws, sources, "Base", images=3, offset=0)
            video = _video_with_stills(ws, sources, "Base")
            boxes.set_usefulness(ws.store.uow, ws.store.actor, base[2], 1)
            _box(ws, base[2], CLASSES[4], 5)
            if synced:
                ws.sync()
            _local_edits(ws, sources, base, video)
        with central.begin() as conn:
            _web_edits(conn, world, first_web)
    finally:
        central.dispose()
    return world


def sync(
    world: World, checkpoint: Callable[[str], None] = lambda _point: None, batch: int = BATCH
) -> SyncReport:
    """One sync of the world's workstation in this process, in batches of ``batch`` rows."""
    with workstation(world.settings()) as ws:
        ws.engine.batch = batch
        return ws.sync(checkpoint=checkpoint)


def drop(world: World) -> None:
    """Drop the world's central database (its folder goes with the test's tmp_path)."""
    name = make_url(world.central_url).database
    admin = create_engine(
        make_url(world.central_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --- the workstation's side -------------------------------------------------------------------


def _local_study(ws: Workstation, sources: Path, alias: str, *, images: int, offset: int) -> list:
    store = ws.store
    studies.create_study(store.uow, store.actor, alias)
    paths = [
        make_image(sources, f"{alias}-{n}.png", (IMAGE[0] + offset + n, IMAGE[1]))
        for n in range(images)
    ]
    report = imports.import_paths(
        store.uow, store.actor, store.media, alias, paths, settings=store.settings
    )
    assert len(report.imported) == images, report
    return [m.id for m in report.imported]


def _video_with_stills(ws: Workstation, sources: Path, alias: str) -> uuid.UUID:
    store = ws.store
    clip = make_video(VideoSpec("fault_clip", width=96, height=64, frames=30), sources)
    report = imports.import_paths(
        store.uow, store.actor, store.media, alias, [clip], settings=store.settings
    )
    video = report.imported[0].id
    for at in (0.2, 0.6):
        extraction.extract_frame(store.uow, store.actor, store.media, video, at_seconds=at)
    return video


def _box(ws: Workstation, media_id: uuid.UUID, bb_class: str, x: float) -> None:
    boxes.add_box(ws.store.uow, ws.store.actor, media_id, bb_class=bb_class, x_min=x, y_min=2,
                  width=20, height=15, image_width=IMAGE[0], image_height=IMAGE[1])  # fmt: skip


def _local_edits(ws: Workstation, sources: Path, base: list, video: uuid.UUID) -> None:
    """New studies, media, stills, labels, boxes and predictions, and edits of synced rows."""
    store = ws.store
    fresh = _local_study(ws, sources, "Offline 1", images=4, offset=10)
    fresh += _local_study(ws, sources, "Offline 2", images=2, offset=20)
    still = extraction.extract_frame(store.uow, store.actor, store.media, video, at_seconds=1.0)
    fresh.append(still.frame.still.id)  # labelled, boxed and scored like the images
    for n, media_id in enumerate(fresh):
        boxes.set_usefulness(store.uow, store.actor, media_id, n % 2)
        predictions.store_classification_prediction(
            store.uow, store.actor, media_id, prediction=0.1 * (n + 1), model_version=MODEL
        )
    for media_id in [*fresh[:4], fresh[-1]]:  # four images and the still
        boxes.set_usefulness(store.uow, store.actor, media_id, 1)
        for k, bb_class in enumerate(CLASSES[:4]):
            _box(ws, media_id, bb_class, 1 + k)
        predictions.store_box_predictions(
            store.uow, store.actor, media_id, model_version=MODEL,
            boxes=[BoxPredictionIn(bb_class=c, confidence=0.5 + k / 20, x_min=k, y_min=1,
                                   width=10, height=10) for k, c in enumerate(CLASSES)],
        )  # fmt: skip
    # Edits of rows already there: a label, a moved box, a hidden box, a deleted box, a rename.
    boxes.set_usefulness(store.uow, store.actor, base[0], 1)
    for bb_class in CLASSES[:3]:
        _box(ws, base[1], bb_class, 3)
    boxes.update_box(store.uow, store.actor, base[1], CLASSES[0], x_min=9, y_min=9, width=20,
                     height=15, image_width=IMAGE[0], image_height=IMAGE[1])  # fmt: skip
    boxes.set_box_hidden(store.uow, store.actor, base[1], CLASSES[1], True)
    boxes.delete_box(store.uow, store.actor, base[1], CLASSES[2])
    boxes.delete_box(store.uow, store.actor, fresh[0], CLASSES[3])
    boxes.delete_box(store.uow, store.actor, base[2], CLASSES[4])
    boxes.clear_usefulness(store.uow, store.actor, base[2])
    studies.rename_study(store.uow, store.actor, "Base", "Base (reviewed)")


# --- the web's side ---------------------------------------------------------------------------


def _web_file(world: World, size: int) -> str:
    """A file the web stored in its media folder; its key."""
    key = str(uuid.uuid4())
    (world.web_media / key).write_bytes(os.urandom(size))
    return key


def web_study(
    conn: Connection, world: World, doctor: uuid.UUID, alias: str, *, media: int
) -> list[uuid.UUID]:
    study = web.insert_study(conn, doctor, alias)
    made = []
    for n in range(media):
        size = 1000 + n
        media_id = web.insert_media(conn, study, file_path=_web_file(world, size), file_size=size)
        _web_predictions(conn, media_id)
        made.append(media_id)
    return made


def _web_predictions(conn: Connection, media_id: uuid.UUID) -> None:
    for k, bb_class in enumerate(CLASSES):
        conn.execute(
            text(
                "INSERT INTO picture_bb_predictions (id, media_id, media_type, bb_class, "
                "confidence, x_min, y_min, width, height, model_version) VALUES (:id, :m, "
                "'image', :c, :p, 1.0, 2.0, 3.0, 4.0, 'web-boxes - 7')"
            ),
            {"id": uuid.uuid4(), "m": media_id, "c": bb_class, "p": 0.3 + k / 20},
        )
    conn.execute(
        text(
            "INSERT INTO picture_classification_predictions (id, media_id, media_type, "
            "prediction, model_version) VALUES (:id, :m, 'image', 0.8, 'web-useful - 2')"
        ),
        {"id": uuid.uuid4(), "m": media_id},
    )


def _web_edits(conn: Connection, world: World, first: list[uuid.UUID]) -> None:
    """A new study with media, a label and a box save on the first web study, and a delete."""
    web_study(conn, world, world.doctor_id, "Web 2", media=3)
    conn.execute(
        text(
            "INSERT INTO picture_classification_annotations (id, media_id, media_type, "
            "usefulness) VALUES (:id, :m, 'image', 1)"
        ),
        {"id": uuid.uuid4(), "m": first[0]},
    )
    web.save_boxes(conn, first[0], CLASSES[:3])
    web.save_boxes(conn, first[0], CLASSES[:2])  # saved again: one box fewer, new ids
    conn.execute(text("DELETE FROM media WHERE id = :m"), {"m": first[1]})
