"""Push and pull between two workstations and the central database: the basic paths."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services import annotations as boxes
from iamedic_desktop.services import imports, studies
from iamedic_desktop.sync.engine import sync_status
from tests.media_samples import make_image
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    all_tables,
    sign_in_store,
    table_rows,
    workstation,
    workstation_settings,
)

pytestmark = pytest.mark.postgres


def _ws(tmp_path: Path, name: str, url: str, email: str) -> Settings:
    settings = workstation_settings(tmp_path / name, url)
    sign_in_store(settings, email)
    return settings


def _annotated_study(ws: Workstation, tmp_path: Path) -> tuple[str, uuid.UUID]:
    store = ws.store
    study = studies.create_study(store.uow, store.actor, "Follow-up 1")
    image = make_image(tmp_path, f"scan-{uuid.uuid4().hex[:6]}.png", (64, 48))
    report = imports.import_paths(
        store.uow, store.actor, store.media, str(study.id), [image], settings=store.settings
    )
    media_id = report.imported[0].id
    boxes.set_usefulness(store.uow, store.actor, media_id, 1)
    boxes.add_box(
        store.uow,
        store.actor,
        media_id,
        bb_class="NT",
        x_min=1,
        y_min=2,
        width=20,
        height=15,
        image_width=64,
        image_height=48,
    )
    return str(study.id), media_id


def _doctor_rows(engine: Engine, doctor: uuid.UUID) -> dict[str, set]:
    rows = all_tables(engine)
    for name in ("users", "user_roles", "doctor_profiles"):
        rows.pop(name)
    return rows


def test_two_workstations_converge_and_a_conflict_is_kept(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    doctor = add_doctor(central, "a@example.org")
    first = _ws(tmp_path, "one", pg_database, "a@example.org")
    second = _ws(tmp_path, "two", pg_database, "a@example.org")
    with workstation(first) as one:
        _, media_id = _annotated_study(one, tmp_path)
        report = one.sync()
        assert report.pushed.written >= 4 and report.pushed.files_sent == 1
        assert sync_status(one.store.uow).pending == 0
        assert _doctor_rows(one.store.engine, doctor) == _doctor_rows(central, doctor)

    with workstation(second) as two:
        report = two.sync()
        assert report.pulled.loaded
        assert _doctor_rows(two.store.engine, doctor) == _doctor_rows(central, doctor)
        # Both move the same box offline: the second to push meets a conflict.
        boxes.update_box(
            two.store.uow,
            two.store.actor,
            media_id,
            "NT",
            x_min=5,
            y_min=5,
            width=20,
            height=15,
            image_width=64,
            image_height=48,
        )
    with workstation(first) as one:
        boxes.update_box(
            one.store.uow,
            one.store.actor,
            media_id,
            "NT",
            x_min=9,
            y_min=9,
            width=20,
            height=15,
            image_width=64,
            image_height=48,
        )
        one.sync()
    with workstation(second) as two:
        report = two.sync()
        assert report.conflicts == 1
        status = sync_status(two.store.uow)
        assert status.conflicts == 1 and status.pending == 0
        central_boxes = table_rows(central, "picture_bb_annotations")
        assert [b for b in central_boxes if 9 in b]  # the central version stayed
        assert _doctor_rows(two.store.engine, doctor) == _doctor_rows(central, doctor)


def test_a_web_save_recreating_unchanged_boxes_is_no_conflict(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    doctor = add_doctor(central, "a@example.org")
    settings = _ws(tmp_path, "one", pg_database, "a@example.org")
    with workstation(settings) as one:
        _, media_id = _annotated_study(one, tmp_path)
        one.sync()
        # The web saves the boxes: delete all, insert the same ones under new ids.
        with central.begin() as conn:
            conn.execute(
                text("CREATE TEMP TABLE keep AS SELECT * FROM picture_bb_annotations "
                     "WHERE media_id = :m"), {"m": media_id})  # fmt: skip
            conn.execute(text("DELETE FROM picture_bb_annotations WHERE media_id = :m"),
                         {"m": media_id})  # fmt: skip
            conn.execute(text("UPDATE keep SET id = gen_random_uuid(), updated_at = now()"))
            conn.execute(text("INSERT INTO picture_bb_annotations SELECT * FROM keep"))
        boxes.update_box(
            one.store.uow,
            one.store.actor,
            media_id,
            "NT",
            x_min=7,
            y_min=7,
            width=20,
            height=15,
            image_width=64,
            image_height=48,
        )
        report = one.sync()
        assert report.conflicts == 0
        assert [b for b in table_rows(central, "picture_bb_annotations") if 7 in b]
        assert _doctor_rows(one.store.engine, doctor) == _doctor_rows(central, doctor)


def test_pulled_media_files_are_fetched_after_the_pull_when_eager(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    add_doctor(central, "a@example.org")
    first = _ws(tmp_path, "one", pg_database, "a@example.org")
    with workstation(first) as one:
        _, media_id = _annotated_study(one, tmp_path)
        one.sync()
        key = one.store.media.path(_file_path(one, media_id))
    for mode, expected in (("on_demand", False), ("eager", True)):
        settings = workstation_settings(tmp_path / mode, pg_database, fetch_media=mode)
        sign_in_store(settings, "a@example.org")
        with workstation(settings) as other:
            other.sync()
            path = other.store.media.path(_file_path(other, media_id))
            assert path.exists() is expected
            if expected:
                assert path.read_bytes() == key.read_bytes()


def _file_path(ws: Workstation, media_id: uuid.UUID) -> str:
    with ws.store.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT file_path FROM media WHERE id = :m"), {"m": media_id.hex}
            ).scalar_one()
        )


def test_local_mode_work_is_pushed_only_once_a_signed_in_user_takes_it(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    from iamedic_desktop.core.errors import AuthenticationError
    from iamedic_desktop.services.local_store import open_local_store
    from iamedic_desktop.services.sessions import answer_local_studies
    from iamedic_desktop.services.sync_service import open_sync

    doctor = add_doctor(central, "a@example.org")
    settings = workstation_settings(tmp_path / "one", pg_database)
    store = open_local_store(settings)
    try:
        studies.create_study(store.uow, store.actor, "Made offline")
        with pytest.raises(AuthenticationError, match="Sign in before syncing"):
            open_sync(store)
    finally:
        store.close()
    sign_in_store(settings, "a@example.org")
    with workstation(settings) as one:
        one.sync()
        assert table_rows(central, "studies") == set()  # left with the local clinician
        answer_local_studies(one.store.uow, one.store.actor, take=True)
        report = one.sync()
        assert report.pushed.refused == 0
        assert {row[2] for row in table_rows(central, "studies")} == {"Made offline"}
        assert _doctor_rows(one.store.engine, doctor) == _doctor_rows(central, doctor)
        local_users = table_rows(central, "users")
        assert all("local@" not in str(row) for row in local_users)
