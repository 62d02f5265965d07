"""Exports on real stores (SQLite and PostgreSQL): every CSV cell against hand-computed values,
the filters, who sees what, ZIP members and bytes, training sets, and nothing left on failure."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import PermissionDeniedError, StorageError
from iamedic_desktop.core.progress import CancelledError, CancelToken, Progress
from iamedic_desktop.core.settings import Settings, get_settings, reset_settings_cache
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import Media, MediaType
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.exports import ExportFilters, ExportResult
from iamedic_desktop.services.exports import export_annotations
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_admin,
    make_box,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    make_usefulness,
    make_user,
    seeding,
)

CLASS_HEADER = ["filename", "media_type", "usefulness", "annotation_date"]
BOX_HEADER = ["filename", "media_type", "bb_class", "xmin", "ymin", "width", "height",
              "annotation_date"]  # fmt: skip


def _at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=dt.UTC)


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 128).save(out, "PNG")
    return out.getvalue()


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 64).save(out, "JPEG")
    return out.getvalue()


@dataclass
class World:
    """Two doctors' studies, an admin, a user with no role; keys of the media by name."""

    uow: UnitOfWorkFactory
    store: MediaStore
    settings: Settings
    admin: Actor
    doctor: Actor
    nobody: Actor
    keys: dict[str, str]
    files: dict[str, bytes]


def _label(session: Session, media: Media, usefulness: int, when: dt.datetime) -> None:
    make_usefulness(session, media, usefulness).created_at = when
    session.flush()


def _box(session: Session, media: Media, cls: str, box: tuple[float, ...], when: dt.datetime,
         hidden: bool = False) -> None:  # fmt: skip
    make_box(session, media, bb_class=cls, box=box, is_hidden=hidden).created_at = when  # type: ignore[arg-type]
    session.flush()


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> Iterator[World]:
    with seeding(uow_factory) as s:
        admin = make_admin(s, email="ada@example.org")
        doctor = make_doctor(s, email="dora@example.org")
        other = make_doctor(s, email="otto@example.org")
        nobody = make_user(s, email="nobody@example.org")
        mine = make_study(s, doctor, alias="Mine")
        gone = make_study(s, doctor, alias="Gone", is_active=False)
        theirs = make_study(s, other, alias="Theirs")
        m1 = make_media(s, mine, filename="first scan.png")  # image/png
        m5 = make_media(s, mine, filename="empty view.png")
        video = make_media(s, mine, media_type=MediaType.VIDEO, filename="loop.mp4")
        f1 = s.get(Media, make_frame(s, video, width=640, height=480).frame_media_id)
        frame2 = make_frame(s, video, timestamp_seconds=2.0)
        frame2.is_active = False  # the still's frames row deleted, its media row not
        f2 = s.get(Media, frame2.frame_media_id)
        m3 = make_media(s, gone, filename="old.png")
        m4 = make_media(s, theirs, filename="other.bin")
        m4.mime_type = "image/jpeg"
        assert f1 is not None and f2 is not None
        _label(s, m1, 1, _at(1, 10, 0, 0))
        _label(s, m3, 1, _at(2, 8, 30, 0))
        _label(s, f2, 1, _at(3, 12, 0, 0))
        _label(s, m5, 0, _at(4, 12, 0, 0))
        _label(s, f1, 0, _at(5, 23, 59, 59))
        _label(s, m4, 0, _at(6, 0, 0, 0))
        _box(s, m1, "CM", (20.0, 30.0, 50.0, 40.0), _at(1, 10, 0, 0))
        _box(s, m1, "NT", (1.0, 2.0, 30.0, 30.0), _at(1, 11, 0, 0), hidden=True)
        _box(s, f1, "nasal bone", (96.0, 48.0, 64.0, 96.0), _at(5, 23, 59, 59))
        _box(s, m4, "IT", (5.5, 6.25, 70.0, 80.0), _at(6, 0, 0, 0))
        keys = {"m1": m1.file_path, "m3": m3.file_path, "m4": m4.file_path, "m5": m5.file_path,
                "f1": f1.file_path, "f2": f2.file_path}  # fmt: skip
        ada, dora, none = (actor_for(u) for u in (admin, doctor, nobody))
    store = MediaStore(tmp_path / "media")
    files = {"m1": _png((200, 100)), "m5": _png((50, 40)), "f1": _jpeg((640, 480)),
             "m3": _png((10, 10)), "f2": _jpeg((640, 480))}  # fmt: skip
    for name, data in files.items():
        store.write_bytes(data, keys[name])
    out = tmp_path / "out"
    out.mkdir()
    yield World(uow_factory, store, get_settings(), ada, dora, none, keys, files)


def _export(world: World, actor: Actor, kind: str, folder: Path, **kwargs: object) -> ExportResult:
    return export_annotations(world.settings, world.uow, actor, world.store, kind=kind,  # type: ignore[arg-type]
                              folder=folder, **kwargs)  # type: ignore[arg-type]  # fmt: skip


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_classification_csv_cell_by_cell(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _export(world, world.admin, "classification", out)
    k = world.keys
    assert _rows(result.path) == [
        CLASS_HEADER,
        [f"{k['m1']}.png", "image", "1", "2026-03-01 10:00:00"],
        [f"{k['m5']}.png", "image", "0", "2026-03-04 12:00:00"],
        [f"{k['f1']}.jpg", "frame", "0", "2026-03-05 23:59:59"],
        [f"{k['m4']}.jpg", "image", "0", "2026-03-06 00:00:00"],
    ]
    assert result.path.read_bytes().count(b"\r\n") == 5  # the web's line ends
    assert result.path.name.startswith("classification_annotations_all_all_")
    assert (result.rows, result.media_count, result.source) == (4, 4, "this workstation")
    assert [p.name for p in out.iterdir()] == [result.path.name]


def test_the_range_includes_its_whole_end_day_and_deleted_on_request(
    world: World, tmp_path: Path
) -> None:
    out, k = tmp_path / "out", world.keys
    march = ExportFilters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 5))
    result = _export(world, world.admin, "classification", out, filters=march)
    assert result.path.name.startswith("classification_annotations_2026-03-02_2026-03-05_")
    assert [r[0] for r in _rows(result.path)[1:]] == [f"{k['m5']}.png", f"{k['f1']}.jpg"]
    with_deleted = march.model_copy(update={"include_deleted": True})
    result = _export(world, world.admin, "classification", out, filters=with_deleted)
    assert [r[0] for r in _rows(result.path)[1:]] == [
        f"{k['m3']}.png",  # its study is deleted
        f"{k['f2']}.jpg",  # its frames row is deleted
        f"{k['m5']}.png",
        f"{k['f1']}.jpg",
    ]
    later = ExportFilters(start=dt.date(2026, 3, 6))
    result = _export(world, world.admin, "classification", out, filters=later)
    assert [r[0] for r in _rows(result.path)[1:]] == [f"{k['m4']}.jpg"]


def test_box_csv_cell_by_cell_with_hidden_on_request(world: World, tmp_path: Path) -> None:
    out, k = tmp_path / "out", world.keys
    result = _export(world, world.admin, "boxes", out)
    assert result.path.name.startswith("bounding_box_annotations_all_all_")
    assert _rows(result.path) == [
        BOX_HEADER,
        [f"{k['m1']}.png", "image", "CM", "20.0", "30.0", "50.0", "40.0", "2026-03-01 10:00:00"],
        [f"{k['f1']}.jpg", "frame", "nasal bone", "96.0", "48.0", "64.0", "96.0",
         "2026-03-05 23:59:59"],
        [f"{k['m4']}.jpg", "image", "IT", "5.5", "6.25", "70.0", "80.0", "2026-03-06 00:00:00"],
    ]  # fmt: skip
    first_day = ExportFilters(end=dt.date(2026, 3, 1), include_hidden=True)
    hidden = _export(world, world.admin, "boxes", out, filters=first_day)
    assert [r[2] for r in _rows(hidden.path)[1:]] == ["CM", "NT"]


def test_a_doctor_exports_only_their_own_studies(world: World, tmp_path: Path) -> None:
    result = _export(world, world.doctor, "classification", tmp_path / "out")
    assert [r[0] for r in _rows(result.path)[1:]] == [
        f"{world.keys['m1']}.png", f"{world.keys['m5']}.png", f"{world.keys['f1']}.jpg",
    ]  # fmt: skip


def test_a_user_without_a_role_is_refused_and_nothing_is_written(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    for kind in ("classification", "boxes", "coco", "yolo"):
        with pytest.raises(PermissionDeniedError, match="admin role, or doctor access"):
            _export(world, world.nobody, kind, out)
    assert list(out.iterdir()) == []


def test_a_zip_holds_the_csv_and_each_annotated_media(world: World, tmp_path: Path) -> None:
    result = _export(world, world.doctor, "classification", tmp_path / "out", fmt="zip")
    assert result.path.suffix == ".zip"
    k = world.keys
    with zipfile.ZipFile(result.path) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "annotations.csv", f"media/{k['m1']}.png", f"media/{k['m5']}.png",
            f"media/{k['f1']}.jpg",
        ]  # fmt: skip
        text = archive.read("annotations.csv").decode()
        assert list(csv.reader(io.StringIO(text)))[1] == [
            f"{k['m1']}.png",
            "image",
            "1",
            "2026-03-01 10:00:00",
        ]
        for name in ("m1", "m5", "f1"):
            member = f"media/{k[name]}.{'jpg' if name == 'f1' else 'png'}"
            assert archive.read(member) == world.files[name]


def test_a_missing_file_or_a_cancel_mid_zip_leaves_no_file(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # m4's file was never stored: m1 and f1 are in the ZIP by then.
    with pytest.raises(StorageError, match=r"The file of 'other\.bin' is not on this workstation"):
        _export(world, world.admin, "boxes", out, fmt="zip")
    assert list(out.iterdir()) == []
    cancel = CancelToken()
    seen: list[Progress] = []

    def progress(step: Progress) -> None:
        seen.append(step)
        if step.done == 1:
            cancel.cancel()  # after the first media file went in

    with pytest.raises(CancelledError):
        _export(world, world.doctor, "classification", out, fmt="zip", progress=progress,
                cancel=cancel)  # fmt: skip
    assert seen and list(out.iterdir()) == []


def test_coco_json_from_the_stores_sizes(world: World, tmp_path: Path) -> None:
    result = _export(world, world.doctor, "coco", tmp_path / "out")
    assert result.path.suffix == ".json"
    document = json.loads(result.path.read_text())
    k = world.keys
    assert document["images"] == [
        {"id": 1, "file_name": f"{k['m1']}.png", "width": 200, "height": 100},  # header
        {"id": 2, "file_name": f"{k['f1']}.jpg", "width": 640, "height": 480},  # frames row
    ]
    assert [(a["image_id"], a["category_id"], a["bbox"], a["area"]) for a in
            document["annotations"]] == [
        (1, 1, [20.0, 30.0, 50.0, 40.0], 2000.0),
        (2, 5, [96.0, 48.0, 64.0, 96.0], 6144.0),
    ]  # fmt: skip
    assert (result.rows, result.media_count) == (2, 2)


def test_a_yolo_dataset_with_labels_images_and_negatives(world: World, tmp_path: Path) -> None:
    result = _export(world, world.doctor, "yolo", tmp_path / "out")
    k = world.keys
    with zipfile.ZipFile(result.path) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted([
            "data.yaml", f"labels/{k['m1']}.txt", f"labels/{k['m5']}.txt",
            f"labels/{k['f1']}.txt", f"images/{k['m1']}.png", f"images/{k['m5']}.png",
            f"images/{k['f1']}.jpg",
        ])  # fmt: skip
        # CM (20, 30, 50, 40) on 200 x 100: centre (45, 50) -> 0.225, 0.5; size 0.25 x 0.4.
        assert archive.read(f"labels/{k['m1']}.txt") == b"0 0.225000 0.500000 0.250000 0.400000\n"
        # nasal bone (96, 48, 64, 96) on 640 x 480: centre (128, 96) -> 0.2, 0.2.
        assert archive.read(f"labels/{k['f1']}.txt") == b"4 0.200000 0.200000 0.100000 0.200000\n"
        assert archive.read(f"labels/{k['m5']}.txt") == b""  # labelled not useful, no box
        assert archive.read(f"images/{k['f1']}.jpg") == world.files["f1"]
        assert b"nc: 9" in archive.read("data.yaml")
    assert (result.rows, result.media_count) == (2, 3)


# --- an admin on the central database ---------------------------------------------------------


@pytest.mark.postgres
def test_an_admin_exports_every_doctors_work_from_the_central_database(
    central: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.engine import make_url

    from iamedic_desktop.services.local_store import open_local_store
    from iamedic_desktop.sync.central_files import open_central_files

    url = central.url.render_as_string(hide_password=False)
    central_uow = UnitOfWorkFactory(central)
    with seeding(central_uow) as s:
        make_admin(s, email="ada@example.org")
        media = []
        for who in ("dora@example.org", "otto@example.org"):
            study = make_study(s, make_doctor(s, email=who))
            image = make_media(s, study, filename=f"{who}.png")
            _label(s, image, 1, _at(2, 9, 0, who.startswith("o")))
            media.append((image.file_path, image.file_size))
    picture = tmp_path / "picture.png"
    picture.write_bytes(_png((30, 20)))
    import hashlib

    files = open_central_files(Settings(central_media_dir=None), central.connect)
    for key, _size in media:
        files.put(
            key, picture, picture.stat().st_size, hashlib.sha256(picture.read_bytes()).hexdigest()
        )
    with seeding(central_uow) as s:
        for found in s.query(Media):
            found.file_size = picture.stat().st_size
    store = open_local_store(get_settings())
    try:
        with seeding(store.uow) as s:
            admin_here = actor_for(make_user(s, email="ada@example.org"))  # no role here
        monkeypatch.setenv("IAMEDIC_CENTRAL_URL", url)
        reset_settings_cache()
        settings = get_settings()
        out = tmp_path / "out"
        out.mkdir()
        result = export_annotations(settings, store.uow, admin_here, store.media,
                                    kind="classification", fmt="zip", folder=out)  # fmt: skip
    finally:
        store.close()
    assert result.source == f"central database 127.0.0.1:5432/{make_url(url).database}"
    with zipfile.ZipFile(result.path) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("annotations.csv").decode())))
        assert rows[1:] == [
            [f"{media[0][0]}.png", "image", "1", "2026-03-02 09:00:00"],
            [f"{media[1][0]}.png", "image", "1", "2026-03-02 09:00:01"],
        ]
        assert archive.read(f"media/{media[1][0]}.png") == picture.read_bytes()
