"""Whose rows a workstation syncs: a doctor neither pulls nor pushes another doctor's study, even
from rows forged into the local store; an admin pulls every user, role and doctor profile but
no other doctor's study.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from iamedic_desktop.models import OutboxEntry
from iamedic_desktop.services import annotations as labelling
from iamedic_desktop.services import imports, studies
from iamedic_desktop.services.local_mode import local_user_id
from iamedic_desktop.sync.rows import IDENTITY_TABLES, TABLE_ORDER, table
from tests.media_samples import make_image
from tests.support import web_writes as web
from tests.support.sync_compare import scope_rows
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


def _signed_in(tmp_path: Path, name: str, url: str, email: str) -> Any:
    settings = workstation_settings(tmp_path / name, url)
    sign_in_store(settings, email)
    return settings


def _others_study(central: Engine, doctor: uuid.UUID) -> dict[str, uuid.UUID]:
    """Another doctor's study as the web writes it: an image, its label and an NT box."""
    with central.begin() as conn:
        study = web.insert_study(conn, doctor, alias="Theirs")
        media = web.insert_media(conn, study)
        web.save_box_list(conn, media, {"NT": (1.0, 2.0, 20.0, 15.0)})
        web.set_label(conn, media, 1)
    return {"study": study, "media": media}


def _own_image(ws: Workstation, folder: Path) -> tuple[uuid.UUID, str]:
    store = ws.store
    study = studies.create_study(store.uow, store.actor, f"Mine {folder.name}")
    image = make_image(folder, "mine.png")
    report = imports.import_paths(
        store.uow, store.actor, store.media, str(study.id), [image], settings=store.settings
    )
    media = report.imported[0]
    labelling.set_usefulness(store.uow, store.actor, media.id, 1)
    return media.id, media.file_path


def _forge(engine: Engine, name: str, values: dict[str, Any], *, pending: bool) -> None:
    """A row written straight into the local store's table (no service, no ORM), with an
    outbox entry when ``pending``: what a tampered or damaged store could hold."""
    with engine.begin() as conn:
        conn.execute(insert(table(name)).values(**values))
        if pending:
            conn.execute(
                insert(OutboxEntry).values(table_name=name, row_id=values["id"], operation="insert")
            )


def _nothing_of(engine: Engine, doctor: uuid.UUID) -> None:
    rows = scope_rows(engine, doctor)
    assert all(not rows[name] for name in TABLE_ORDER if name not in IDENTITY_TABLES), rows


def test_a_doctor_neither_pulls_nor_pushes_another_doctors_study_even_forged_locally(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    me = add_doctor(central, "me@example.org")
    other = add_doctor(central, "other@example.org")
    theirs = _others_study(central, other)
    with workstation(_signed_in(tmp_path, "mine", pg_database, "me@example.org")) as ws:
        _own_image(ws, tmp_path)
        assert ws.sync().pushed.refused == 0
        _nothing_of(ws.store.engine, other)
        with central.begin() as conn:  # the web goes on changing the other doctor's study
            web.save_box_list(conn, theirs["media"], {"CM": (5.0, 5.0, 20.0, 15.0)})
            web.set_label(conn, theirs["media"], 0)
        ws.sync()
        _nothing_of(ws.store.engine, other)
        users = {row[0] for row in table_rows(ws.store.engine, "users")}
        with ws.store.uow() as uow:
            assert users == {str(me), str(local_user_id(uow.session))}

        store = ws.store.engine
        own_media, own_key = _own_image(ws, tmp_path / "more")
        ws.sync()
        # 1. A study claiming the other doctor (whose user row is copied in): refused by its
        #    local owner.
        copied_user = {"id": other, "email": "other@example.org", "name": "other",
                       "google_id": f"g-{other}", "is_active": True}  # fmt: skip
        _forge(store, "users", copied_user, pending=False)
        _forge(store, "studies", {"id": uuid.uuid4(), "doctor_id": other, "alias": "Forged",
                                  "is_active": True}, pending=True)  # fmt: skip
        # 2. The other doctor's study copied in under my name (not pushed itself), with a new
        #    media (its file one that central storage holds) and the other doctor's media.
        _forge(store, "studies", {"id": theirs["study"], "doctor_id": me, "alias": "Theirs",
                                  "is_active": True}, pending=False)  # fmt: skip
        media = {"study_id": theirs["study"], "filename": "x.png", "file_path": own_key,
                 "file_size": 10, "mime_type": "image/png", "media_type": "image",
                 "upload_status": "uploaded", "is_active": True}  # fmt: skip
        _forge(store, "media", {**media, "id": uuid.uuid4()}, pending=True)
        _forge(store, "media", {**media, "id": theirs["media"]}, pending=False)
        # 3. A box (its key exists centrally) and a label on the other doctor's media.
        _forge(store, "picture_bb_annotations", {"id": uuid.uuid4(), "media_id": theirs["media"],
               "media_type": "image", "bb_class": "CM", "usefulness": 1, "x_min": 9.0,
               "y_min": 9.0, "width": 12.0, "height": 12.0, "is_hidden": False},
               pending=True)  # fmt: skip
        _forge(store, "picture_classification_annotations", {"id": uuid.uuid4(),
               "media_id": theirs["media"], "media_type": "image", "usefulness": 1},
               pending=True)  # fmt: skip
        labelling.set_usefulness(ws.store.uow, ws.store.actor, own_media, 0)  # a real edit
        before = all_tables(central)

        report = ws.sync()
        assert report.pushed.refused == 4
        assert report.pushed.written == 1  # my own label only
        after = all_tables(central)
        changed = {name for name in TABLE_ORDER if before[name] != after[name]}
        assert changed == {"picture_classification_annotations"}
        assert after["picture_classification_annotations"] - before[
            "picture_classification_annotations"
        ] == {r for r in after["picture_classification_annotations"] if str(own_media) in r}
        assert ws.sync().pushed.refused == 4  # refused every time, never pushed
        assert all_tables(central) == after


def test_an_admin_pulls_every_user_role_and_profile_but_no_other_doctors_study(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    doctors = [add_doctor(central, f"d{i}@example.org") for i in range(2)]
    admin = add_doctor(central, "admin@example.org", admin=True)
    for doctor in doctors:
        _others_study(central, doctor)
    with workstation(_signed_in(tmp_path, "admin", pg_database, "admin@example.org")) as ws:
        _own_image(ws, tmp_path)
        ws.sync()
        with ws.store.uow() as uow:
            local_only = str(local_user_id(uow.session))
        for name in sorted(IDENTITY_TABLES):
            here = {r for r in table_rows(ws.store.engine, name) if local_only not in r}
            assert here == table_rows(central, name), name
        for doctor in doctors:
            _nothing_of(ws.store.engine, doctor)
        assert scope_rows(ws.store.engine, admin) == scope_rows(central, admin)
        # A new user and role made by the web later reach the admin too.
        with central.begin() as conn:
            web.insert_user(conn, "Newcomer")
        ws.sync()
        here = {r for r in table_rows(ws.store.engine, "users") if local_only not in r}
        assert here == table_rows(central, "users")
