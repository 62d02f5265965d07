"""The central audit log records one entry per change, by any writer, with who and from where.

Writers: a workstation through the real sync engine (its user and device), the web's way in
plain SQL under a login of its own (no user, no device), and psql itself. Tokens never appear.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from iamedic_desktop.services import annotations as labels
from iamedic_desktop.services import imports, studies
from iamedic_desktop.sync.audit import verify
from tests.media_samples import make_image
from tests.support.sync_world import (
    add_doctor,
    sign_in_store,
    workstation,
    workstation_settings,
)
from tests.support.web_writes import insert_media, insert_study, insert_user, save_boxes

pytestmark = pytest.mark.postgres


@pytest.fixture
def web_login(central: Engine) -> Iterator[Engine]:
    """A login of the web's kind: rights on the ten tables (and, as their owner would, past
    their row-level security), none on the workstation schema."""
    role = f"web_{uuid.uuid4().hex[:10]}"
    with central.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN BYPASSRLS"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
    web = create_engine(central.url.set(username=role))
    try:
        yield web
    finally:
        web.dispose()
        with central.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def entries(engine: Engine, after: int = 0) -> list[dict[str, Any]]:
    """The audit entries after id ``after``, in chain order."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM workstation.audit_log WHERE id > :a ORDER BY id"), {"a": after}
        )
        return [dict(row._mapping) for row in rows]


def last_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT last_id FROM workstation.audit_chain_head")).one()[0])


def test_a_workstations_pushes_name_its_user_and_device(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    doctor = add_doctor(central, "a@example.org")
    settings = workstation_settings(tmp_path / "one", pg_database)
    sign_in_store(settings, "a@example.org")
    with workstation(settings) as ws:
        store = ws.store
        study = studies.create_study(store.uow, store.actor, "Follow-up 1")
        image = make_image(tmp_path, "scan.png")
        media = imports.import_paths(
            store.uow, store.actor, store.media, str(study.id), [image], settings=settings
        ).imported[0]
        labels.set_usefulness(store.uow, store.actor, media.id, 1)
        start = last_id(central)
        ws.sync()
        pushed = entries(central, start)
        labels.set_usefulness(store.uow, store.actor, media.id, 0)
        middle = last_id(central)
        ws.sync()
        changed = entries(central, middle)
        device = ws.engine.device_id

    assert sorted((e["table_name"], e["op"]) for e in pushed) == [
        ("media", "I"),
        ("picture_classification_annotations", "I"),
        ("studies", "I"),
    ]
    assert {e["row_id"] for e in pushed if e["table_name"] == "studies"} == {study.id}
    for entry in pushed + changed:
        assert (entry["user_id"], entry["device_id"]) == (doctor, device)
        assert (entry["doctor_id"], entry["study_id"]) == (doctor, study.id)
        assert entry["login"] == entry["db_role"] == make_url(pg_database).username
    [label] = changed
    assert (label["table_name"], label["op"], label["media_id"]) == (
        "picture_classification_annotations",
        "U",
        media.id,
    )
    assert label["old_values"]["usefulness"] == 1 and label["new_values"]["usefulness"] == 0
    assert "media_id" not in label["new_values"]  # only what changed
    assert verify_ok(central)


def verify_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        return verify(conn).ok


def test_the_webs_writes_are_recorded_without_user_or_device(
    central: Engine, web_login: Engine
) -> None:
    with web_login.begin() as conn:
        doctor = insert_user(conn)
        study = insert_study(conn, doctor)
        media = insert_media(conn, study)
        [box] = save_boxes(conn, media, ["NT"])
    with web_login.begin() as conn:
        conn.execute(text("UPDATE studies SET alias = 'S-2' WHERE id = :s"), {"s": study})
    with web_login.begin() as conn:
        conn.execute(text("DELETE FROM media WHERE id = :m"), {"m": media})  # cascades

    found = entries(central)
    assert [(e["table_name"], e["op"]) for e in found] == [
        ("users", "I"),
        ("studies", "I"),
        ("media", "I"),
        ("picture_bb_annotations", "I"),
        ("studies", "U"),
        ("media", "D"),
        ("picture_bb_annotations", "D"),
    ]
    role = web_login.url.username
    assert {(e["login"], e["db_role"], e["user_id"], e["device_id"]) for e in found} == {
        (role, role, None, None)
    }
    update = found[4]
    assert update["old_values"]["alias"] == "S-1" and update["new_values"]["alias"] == "S-2"
    assert set(update["new_values"]) <= {"alias", "updated_at"}
    deleted_box = found[6]
    assert deleted_box["row_id"] == box and deleted_box["new_values"] is None
    assert deleted_box["old_values"]["bb_class"] == "NT"
    assert (deleted_box["doctor_id"], deleted_box["study_id"]) == (doctor, study)  # cascade
    assert [e["version"] for e in found if e["row_id"] == study] == [1, 2]
    assert verify_ok(central)


def test_psql_is_recorded_with_its_login_role_and_application(
    central: Engine, web_login: Engine, pg_database: str
) -> None:
    with web_login.begin() as conn:
        doctor = insert_user(conn)
    role = web_login.url.username
    url = make_url(pg_database)
    script = (
        "SET iamedic.user_id = 'not a uuid';\n"
        f"SET ROLE {role};\n"
        f"UPDATE users SET name = 'Renamed' WHERE id = '{doctor}';\n"
    )
    done = subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-h", url.host or "", "-p", str(url.port or 5432),
         "-U", url.username or "", "-d", url.database or "", "-c", script],
        capture_output=True, text=True, env={"PGAPPNAME": "psql", "PATH": "/usr/bin:/bin"},
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    [entry] = entries(central, 1)
    assert (entry["login"], entry["db_role"], entry["application"]) == (
        url.username,
        role,
        "psql",
    )
    assert entry["user_id"] is None  # a setting that is not a uuid names nobody
    assert entry["new_values"]["name"] == "Renamed"


def test_the_webs_google_tokens_never_reach_the_log(central: Engine, web_login: Engine) -> None:
    secrets = [f"secret-{uuid.uuid4().hex}" for _ in range(4)]
    with web_login.begin() as conn:
        doctor = insert_user(conn)
        conn.execute(
            text(
                "UPDATE users SET access_token = :a, refresh_token = :r, "
                "token_expires_at = now() + interval '1 hour' WHERE id = :u"
            ),
            {"a": secrets[0], "r": secrets[1], "u": doctor},
        )
    with web_login.begin() as conn:
        conn.execute(
            text("UPDATE users SET access_token = :a, refresh_token = :r WHERE id = :u"),
            {"a": secrets[2], "r": secrets[3], "u": doctor},
        )
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": doctor})

    found = entries(central)
    everything = json.dumps([e["old_values"] for e in found] + [e["new_values"] for e in found])
    assert not any(secret in everything for secret in secrets)
    first_update = found[1]
    assert first_update["old_values"]["access_token"] is None  # nothing there, nothing hidden
    for key in ("access_token", "refresh_token", "token_expires_at"):
        assert first_update["new_values"][key] == "[redacted]"
    assert found[3]["old_values"]["refresh_token"] == "[redacted]"
    assert verify_ok(central)


def test_entries_are_numbered_in_commit_order_and_a_rollback_leaves_no_trace(
    central: Engine,
) -> None:
    with central.begin() as conn:
        doctor = insert_user(conn)
    first, second = central.connect(), central.connect()
    try:
        first.begin()
        insert_study(first, doctor, "first")
        second.begin()
        insert_study(second, doctor, "second")
        second.commit()  # commits first: its entry comes first
        first.commit()
        with central.begin() as conn:
            insert_study(conn, doctor, "rolled back")
            conn.rollback()
        with central.begin() as conn:
            conn.execute(text("SAVEPOINT s"))
            insert_study(conn, doctor, "undone")
            conn.execute(text("ROLLBACK TO SAVEPOINT s"))
            insert_study(conn, doctor, "kept")
    finally:
        first.close()
        second.close()

    found = entries(central, 1)
    assert [e["new_values"]["alias"] for e in found] == ["second", "first", "kept"]
    assert [e["id"] for e in found] == [2, 3, 4]
    with central.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM workstation.audit_pending")).scalar()
    assert pending == 0
    assert verify_ok(central)
