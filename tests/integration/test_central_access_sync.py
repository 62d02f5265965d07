"""The sync engine on per-user logins: each workstation enrolled with its own code, and the
clear refusal of a login that was revoked or belongs to someone else."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from iamedic_desktop.core.errors import AuthenticationError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services import annotations as boxes
from iamedic_desktop.services import studies
from iamedic_desktop.services.central_access import REVOKED, enroll
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.sync_service import open_sync
from iamedic_desktop.sync.engine import sync_status
from tests.integration.test_sync_engine import _annotated_study, _doctor_rows
from tests.support.central_logins import Central, grant, web_owned_central
from tests.support.keyring_file import FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (a fixture)
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    sign_in_store,
    table_rows,
    workstation,
    workstation_settings,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def central(pg_server: str) -> Iterator[Central]:
    with web_owned_central(pg_server) as central:
        yield central


def _enrolled(central: Central, folder: Path, email: str) -> tuple[Settings, str]:
    """A workstation in ``folder`` enrolled with its own code, then signed in as ``email``."""
    web_url = central.url.render_as_string(hide_password=False)
    done = enroll(workstation_settings(folder, web_url), grant(central, email))
    own_url = central.url_as(done.login).render_as_string(hide_password=False)
    settings = workstation_settings(folder, own_url)
    sign_in_store(settings, email)
    return settings, done.login


def _box_at(ws: Workstation, media_id: uuid.UUID, place: int) -> None:
    store = ws.store
    size = {"width": 20, "height": 15, "image_width": 64, "image_height": 48}
    boxes.update_box(store.uow, store.actor, media_id, "NT", x_min=place, y_min=place, **size)


def test_two_workstations_on_their_own_logins_converge_and_keep_a_conflict(
    central: Central, tmp_path: Path, file_keyring: FileKeyring
) -> None:
    web = central.engine
    doctor = add_doctor(web, "a@example.org")
    first, first_login = _enrolled(central, tmp_path / "one", "a@example.org")
    second, second_login = _enrolled(central, tmp_path / "two", "a@example.org")
    assert first_login != second_login
    assert file_keyring.get_password("iamedic-central-db", first_login)

    with workstation(first) as one:
        _, media_id = _annotated_study(one, tmp_path)
        report = one.sync()
        assert report.pushed.written >= 4 and report.pushed.files_sent == 1
        assert _doctor_rows(one.store.engine, doctor) == _doctor_rows(web, doctor)
    with workstation(second) as two:
        assert two.sync().pulled.loaded
        assert _doctor_rows(two.store.engine, doctor) == _doctor_rows(web, doctor)
        _box_at(two, media_id, 5)
    with workstation(first) as one:
        _box_at(one, media_id, 9)
        one.sync()
    with workstation(second) as two:
        report = two.sync()
        assert report.conflicts == 1
        assert sync_status(two.store.uow).pending == 0
        assert [b for b in table_rows(web, "picture_bb_annotations") if 9 in b]
        assert _doctor_rows(two.store.engine, doctor) == _doctor_rows(web, doctor)
    with web.connect() as conn:
        boxes_by = "SELECT DISTINCT login FROM workstation.audit_log WHERE table_name = :t"
        writers = set(conn.execute(text(boxes_by), {"t": "picture_bb_annotations"}).scalars())
    assert writers == {first_login}  # the conflicting push wrote nothing


def test_an_admins_workstation_pulls_every_user_but_no_other_doctors_study(
    central: Central, tmp_path: Path, file_keyring: FileKeyring
) -> None:
    web = central.engine
    add_doctor(web, "a@example.org")
    doctor_settings, _ = _enrolled(central, tmp_path / "a", "a@example.org")
    with workstation(doctor_settings) as ws:
        _annotated_study(ws, tmp_path)
        ws.sync()
    add_doctor(web, "c@example.org", admin=True)
    admin_settings, _ = _enrolled(central, tmp_path / "c", "c@example.org")
    with workstation(admin_settings) as ws:
        ws.sync()
        for name in ("users", "user_roles", "doctor_profiles"):  # the store has its local user too
            assert table_rows(web, name) <= table_rows(ws.store.engine, name), name
        assert table_rows(ws.store.engine, "studies") == set()


def test_a_revoked_login_is_told_so_and_the_local_work_stays(
    central: Central, tmp_path: Path, file_keyring: FileKeyring
) -> None:
    add_doctor(central.engine, "a@example.org")
    settings, _ = _enrolled(central, tmp_path / "one", "a@example.org")
    with workstation(settings) as one:
        one.sync()
        studies.create_study(one.store.uow, one.store.actor, "Made after the sync")
    with central.engine.begin() as conn:
        conn.execute(text("SELECT workstation.revoke_access('a@example.org')"))

    store = open_local_store(settings)
    try:
        with pytest.raises(AuthenticationError) as refused:
            open_sync(store)
        assert refused.value.message == REVOKED
        assert sync_status(store.uow).pending == 1
    finally:
        store.close()


def test_a_login_of_another_user_is_refused_before_anything_moves(
    central: Central, tmp_path: Path, file_keyring: FileKeyring
) -> None:
    add_doctor(central.engine, "a@example.org")
    add_doctor(central.engine, "b@example.org")
    settings, _ = _enrolled(central, tmp_path / "one", "a@example.org")
    sign_in_store(settings, "b@example.org")  # someone else signs in on that workstation

    store = open_local_store(settings)
    try:
        with pytest.raises(AuthenticationError, match="belongs to another account"):
            open_sync(store)
    finally:
        store.close()


def test_a_login_revoked_while_the_window_syncs_is_said_so_by_the_next_sync(
    central: Central, tmp_path: Path, file_keyring: FileKeyring
) -> None:
    from iamedic_desktop.core.errors import CentralDatabaseError

    add_doctor(central.engine, "a@example.org")
    settings, _ = _enrolled(central, tmp_path / "one", "a@example.org")
    with workstation(settings) as one:
        one.sync()
        with central.engine.begin() as conn:
            conn.execute(text("SELECT workstation.revoke_access('a@example.org')"))
        one.engine.central.dispose()  # the pool's sessions were ended by the revocation
        studies.create_study(one.store.uow, one.store.actor, "Made after the revocation")
        with pytest.raises(CentralDatabaseError) as refused:
            one.sync()
        assert REVOKED in refused.value.message
        assert sync_status(one.store.uow).pending == 1
