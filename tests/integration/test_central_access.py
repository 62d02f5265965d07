"""Per-user central logins (revision 0006): enrollment, revocation and row-level security.

Every check of what a login may reach runs plain SQL over psycopg2 as that login, never the
app's code. The web's login is an ordinary login owning the tables (tests/support/
central_logins.py): a superuser would pass row-level security whatever the policies say.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import pytest
from psycopg2 import errors
from sqlalchemy import Connection, text

from tests.support.central_logins import Central, enroll, grant, login_for, web_owned_central
from tests.support.web_writes import insert_frame, insert_media, insert_study, save_boxes

pytestmark = pytest.mark.postgres

CHILD_TABLES = (
    "picture_classification_predictions",
    "picture_classification_annotations",
    "picture_bb_predictions",
    "picture_bb_annotations",
)


@dataclass
class Doctor:
    """A user of the web with one study, an image, a video with a still, and every kind of
    prediction and annotation on the image; ``rows`` lists the ids by table."""

    email: str
    id: uuid.UUID
    rows: dict[str, list[uuid.UUID]] = field(default_factory=dict)


def _add_user(conn: Connection, email: str, roles: tuple[str, ...]) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute(
        text("INSERT INTO users (id, email, name, google_id, is_active) "
             "VALUES (:id, :e, 'Dr', :g, true)"),
        {"id": user_id, "e": email, "g": f"g-{user_id}"},
    )  # fmt: skip
    for role in roles:
        conn.execute(
            text("INSERT INTO user_roles (id, user_id, role) VALUES (:id, :u, :r)"),
            {"id": uuid.uuid4(), "u": user_id, "r": role},
        )
    conn.execute(
        text("INSERT INTO doctor_profiles (id, user_id, matriculation_id, legal_name, "
             "specialization, status) VALUES (:id, :u, :m, 'Dr', 'OB', 'approved')"),
        {"id": uuid.uuid4(), "u": user_id, "m": f"M-{user_id.hex[:8]}"},
    )  # fmt: skip
    return user_id


def _add_doctor(conn: Connection, email: str, *, admin: bool = False) -> Doctor:
    doctor = Doctor(email, _add_user(conn, email, ("doctor", "admin") if admin else ("doctor",)))
    study = insert_study(conn, doctor.id)
    image = insert_media(conn, study)
    video = insert_media(conn, study, media_type="video")
    still = insert_media(conn, study, media_type="frame")
    frame = insert_frame(conn, video, still)
    children: dict[str, list[uuid.UUID]] = {}
    for table, columns, values in (
        (CHILD_TABLES[0], "prediction, model_version", "0.9, 'cls - 1'"),
        (CHILD_TABLES[1], "usefulness", "1"),
        (CHILD_TABLES[2], "bb_class, confidence, x_min, y_min, width, height, model_version",
         "'NT', 0.8, 1, 2, 3, 4, 'box - 1'"),
    ):  # fmt: skip
        row = uuid.uuid4()
        conn.execute(
            text(f"INSERT INTO {table} (id, media_id, media_type, {columns}) "
                 f"VALUES (:id, :m, 'image', {values})"),
            {"id": row, "m": image},
        )  # fmt: skip
        children[table] = [row]
    children[CHILD_TABLES[3]] = save_boxes(conn, image, ["NT", "CM"])
    doctor.rows = {
        "studies": [study],
        "media": [image, video, still],
        "frames": [frame],
        **children,
    }
    return doctor


@dataclass
class World:
    """Doctors A and B, admin C, each with an enrolled login."""

    central: Central
    a: Doctor
    b: Doctor
    c: Doctor
    logins: dict[str, str]


@pytest.fixture
def world(pg_server: str) -> Iterator[World]:
    with web_owned_central(pg_server) as central:
        with central.engine.begin() as conn:
            a = _add_doctor(conn, "a@example.org")
            b = _add_doctor(conn, "b@example.org")
            c = _add_doctor(conn, "c@example.org", admin=True)
        logins = {d.email: login_for(central, d.email) for d in (a, b, c)}
        yield World(central, a, b, c, logins)


def _query(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _changed(conn: Any, sql: str, params: tuple[Any, ...]) -> int:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        count: int = cursor.rowcount
    conn.commit()
    return count


def _refused(conn: Any, sql: str, params: tuple[Any, ...]) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as raised, conn.cursor() as cursor:
        cursor.execute(sql, params)
    conn.rollback()
    return str(raised.value)


def _ids(rows: list[uuid.UUID]) -> list[str]:
    return [str(r) for r in rows]


def _owner_count(world: World, table: str, ids: list[uuid.UUID]) -> int:
    with world.central.engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE id = ANY(:ids)"), {"ids": ids}
            ).scalar_one()
        )


_NEW_STUDY = "INSERT INTO studies (id, doctor_id, alias, is_active) VALUES (%s, %s, 'X', true)"
_NEW_MEDIA = (
    "INSERT INTO media (id, study_id, filename, file_path, file_size, mime_type, media_type, "
    "upload_status, is_active) VALUES (%s, %s, 'x.png', %s, 1, 'image/png', 'image', "
    "'uploaded', true)"
)
_NEW_BOX = (
    "INSERT INTO picture_bb_annotations (id, media_id, media_type, bb_class, usefulness, x_min, "
    "y_min, width, height, is_hidden) VALUES (%s, %s, 'image', 'IT', 1, 1, 1, 1, 1, false)"
)
_NEW_PREDICTION = (
    "INSERT INTO picture_classification_predictions (id, media_id, media_type, prediction, "
    "model_version) VALUES (%s, %s, 'image', 0.5, 'm - 2')"
)


def _new() -> str:
    return str(uuid.uuid4())


def test_a_doctors_login_reaches_only_their_own_studies_and_what_hangs_off_them(
    world: World,
) -> None:
    a, b = world.a, world.b
    conn = world.central.connect_as(world.logins[a.email])
    try:
        for table, theirs in b.rows.items():
            mine = a.rows[table]
            listed = f"SELECT id FROM {table} WHERE id = ANY(%s::uuid[])"
            seen = {r[0] for r in _query(conn, listed, (_ids(mine + theirs),))}
            touch = f"UPDATE {table} SET created_at = now() WHERE id = ANY(%s::uuid[])"
            remove = f"DELETE FROM {table} WHERE id = ANY(%s::uuid[])"

            assert seen == set(_ids(mine)), table
            assert _changed(conn, touch, (_ids(theirs),)) == 0, table
            assert _changed(conn, remove, (_ids(theirs),)) == 0, table
            assert _owner_count(world, table, theirs) == len(theirs), table
        # Nothing can be written under B's study or media, nor moved there.
        b_study, b_image, a_image = b.rows["studies"][0], b.rows["media"][0], a.rows["media"][0]
        _refused(conn, _NEW_STUDY, (_new(), str(b.id)))
        _refused(conn, _NEW_MEDIA, (_new(), str(b_study), _new()))
        _refused(conn, _NEW_BOX, (_new(), str(b_image)))
        _refused(conn, _NEW_PREDICTION, (_new(), str(b_image)))
        _refused(conn, "UPDATE media SET study_id = %s WHERE id = %s", (str(b_study), str(a_image)))
        # Their own rows stay writable.
        moved = "UPDATE picture_bb_annotations SET x_min = 7 WHERE media_id = %s"
        assert _changed(conn, moved, (str(a_image),)) == 2
        assert _changed(conn, _NEW_BOX, (_new(), str(a_image))) == 1
    finally:
        conn.close()


def test_a_doctor_reads_only_their_own_feed_versions_and_audit_entries(world: World) -> None:
    a, b = world.a, world.b
    conn = world.central.connect_as(world.logins[a.email])
    try:
        for table in ("change_feed", "row_versions", "audit_log"):
            doctors = {r[0] for r in _query(conn, f"SELECT doctor_id FROM workstation.{table}")}
            assert doctors == {str(a.id)}, table
            studies = {r[0] for r in _query(conn, f"SELECT study_id FROM workstation.{table}")}
            assert str(b.rows["studies"][0]) not in studies
        with world.central.engine.connect() as owner:
            total = owner.execute(
                text("SELECT count(DISTINCT doctor_id) FROM workstation.change_feed")
            )
            assert total.scalar_one() == 3  # the owner sees every doctor's entries
        users = _query(conn, "SELECT id FROM users")
        roles = _query(conn, "SELECT user_id FROM user_roles")
        profiles = _query(conn, "SELECT user_id FROM doctor_profiles")
        logins = _query(conn, "SELECT role_name FROM workstation.logins")
        assert {r[0] for r in users + roles + profiles} == {str(a.id)}
        assert logins == [(world.logins[a.email],)]
    finally:
        conn.close()


def test_a_doctor_cannot_raise_their_own_rights(world: World) -> None:
    a = world.a
    me = (str(a.id),)
    with world.central.engine.begin() as owner:
        pending = "UPDATE doctor_profiles SET status = 'pending' WHERE user_id = :u"
        owner.execute(text(pending), {"u": a.id})
    conn = world.central.connect_as(world.logins[a.email])
    try:
        role = "INSERT INTO user_roles (id, user_id, role) VALUES (%s, %s, 'admin')"
        _refused(conn, role, (_new(), str(a.id)))
        _refused(conn, "UPDATE doctor_profiles SET status = 'approved' WHERE user_id = %s", me)
        _refused(conn, "UPDATE users SET email = 'c@example.org.x' WHERE id = %s", me)
        _refused(conn, "SELECT workstation.grant_access('b@example.org')", ())
        # What is theirs to edit stays editable.
        assert _changed(conn, "UPDATE users SET name = 'Dr A' WHERE id = %s", me) == 1
        profile = "UPDATE doctor_profiles SET specialization = 'MFM' WHERE user_id = %s"
        assert _changed(conn, profile, me) == 1
    finally:
        conn.close()


def test_an_admins_login_manages_users_roles_and_profiles_but_not_others_studies(
    world: World,
) -> None:
    a, b, c = world.a, world.b, world.c
    new_user = uuid.uuid4()
    conn = world.central.connect_as(world.logins[c.email])
    try:
        assert len(_query(conn, "SELECT id FROM users")) == 3
        user = (
            "INSERT INTO users (id, email, name, google_id, is_active) "
            "VALUES (%s, %s, 'D', %s, true)"
        )
        role = "INSERT INTO user_roles (id, user_id, role) VALUES (%s, %s, 'doctor')"
        note = "UPDATE doctor_profiles SET notes = 'checked' WHERE user_id = %s"
        unrole = "DELETE FROM user_roles WHERE user_id = %s AND role = 'doctor'"

        assert _changed(conn, user, (str(new_user), "d@example.org", "g-d")) == 1
        assert _changed(conn, role, (_new(), str(new_user))) == 1
        assert _changed(conn, note, (str(b.id),)) == 1
        assert _changed(conn, unrole, (str(a.id),)) == 1
        code = _query(conn, "SELECT code FROM workstation.grant_access('d@example.org')")
        conn.commit()
        assert len(code[0][0]) == 29  # six groups of four characters
        assert _query(conn, "SELECT id FROM studies") == [(str(c.rows["studies"][0]),)]
        feed = _query(conn, "SELECT table_name, doctor_id FROM workstation.change_feed")
        others = {t for t, d in feed if d != str(c.id)}
        assert others == {"users", "user_roles", "doctor_profiles"}
    finally:
        conn.close()


def test_the_webs_login_still_reads_and_writes_everything(world: World) -> None:
    a, b = world.a, world.b
    with world.central.engine.begin() as web:
        for table in a.rows:
            ids = a.rows[table] + b.rows[table]
            found = web.execute(
                text(f"SELECT count(*) FROM {table} WHERE id = ANY(:i)"), {"i": ids}
            )
            assert found.scalar_one() == len(ids), table
        save_boxes(web, b.rows["media"][0], ["IT"])
        web.execute(text("DELETE FROM studies WHERE id = :s"), {"s": a.rows["studies"][0]})
    with world.central.engine.connect() as web:
        deleted = web.execute(
            text("SELECT count(*) FROM workstation.change_feed WHERE op = 'D' AND doctor_id = :a"),
            {"a": a.id},
        ).scalar_one()
        boxes = (
            web.execute(
                text("SELECT bb_class FROM picture_bb_annotations WHERE media_id = :m"),
                {"m": b.rows["media"][0]},
            )
            .scalars()
            .all()
        )
    assert deleted == 3 + 1 + 3 + 2 + 1  # media, frame, one of each child, two boxes, study
    assert boxes == ["IT"]


def test_a_doctors_write_is_in_the_feed_and_audit_log_with_its_owners(world: World) -> None:
    a = world.a
    image = a.rows["media"][0]
    conn = world.central.connect_as(world.logins[a.email])
    try:
        box = _new()
        _changed(conn, _NEW_BOX, (box, str(image)))
    finally:
        conn.close()
    with world.central.engine.connect() as web:
        feed = web.execute(
            text("SELECT doctor_id, media_id FROM workstation.change_feed WHERE row_id = :b"),
            {"b": box},
        ).one()
        audit = web.execute(
            text("SELECT login, doctor_id FROM workstation.audit_log WHERE row_id = :b"),
            {"b": box},
        ).one()
    assert tuple(feed) == (a.id, image)
    assert tuple(audit) == (world.logins[a.email], a.id)


def test_logins_are_one_per_enrollment_and_only_admins_join_the_admin_group(
    world: World,
) -> None:
    second = login_for(world.central, world.a.email)
    with world.central.engine.connect() as conn:
        member = conn.execute(
            text("SELECT pg_has_role(:r, 'iamedic_admin', 'MEMBER'), "
                 "pg_has_role(:r, 'iamedic_doctor', 'MEMBER')"),
            {"r": world.logins[world.a.email]},
        ).one()  # fmt: skip
        admin = conn.execute(
            text("SELECT pg_has_role(:r, 'iamedic_admin', 'MEMBER')"),
            {"r": world.logins[world.c.email]},
        ).scalar_one()
    assert second != world.logins[world.a.email]
    assert second.startswith(f"iamedic_u_{world.a.id.hex}_")
    assert tuple(member) == (False, True)
    assert admin is True


def test_an_enrollment_code_works_once_and_until_it_expires(world: World) -> None:
    central = world.central
    code = grant(central, world.b.email)
    with central.engine.connect() as conn:
        login, stored = conn.execute(
            text("SELECT e.role_name, e.code_hash FROM workstation.enrollments e "
                 "WHERE e.redeemed_at IS NULL")
        ).one()  # fmt: skip
    assert stored == hashlib.sha256(code.replace("-", "").encode()).hexdigest()  # only its hash
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        central.connect_as(login).close()  # not enrolled yet

    assert enroll(central, code.lower().replace("-", " ")) == login  # as typed by a person
    central.connect_as(login).close()
    with pytest.raises(Exception, match="not valid"):
        enroll(central, code)

    late = grant(central, world.b.email)
    with central.engine.begin() as conn:
        conn.execute(text("UPDATE workstation.enrollments SET expires_at = now() - interval '1 s' "
                          "WHERE redeemed_at IS NULL"))  # fmt: skip
    with pytest.raises(Exception, match="not valid"):
        enroll(central, late)
    with pytest.raises(Exception, match="not valid"):
        enroll(central, "0000-0000-0000-0000-0000-0000")


def _wait_closed(conn: Any) -> None:
    with pytest.raises(psycopg2.OperationalError), conn.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_a_revoked_login_is_refused_and_its_open_session_ended(world: World) -> None:
    central, a = world.central, world.a
    login = world.logins[a.email]
    open_session = central.connect_as(login)
    pending = grant(central, a.email)
    admin = central.connect_as(world.logins[world.c.email])
    try:
        assert _query(admin, "SELECT workstation.revoke_access(%s)", (a.email,)) == [(2,)]
        admin.commit()
    finally:
        admin.close()

    _wait_closed(open_session)
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        central.connect_as(login)
    with pytest.raises(Exception, match="not valid"):
        enroll(central, pending)  # its codes went with it
    with central.engine.connect() as conn:
        revoked = conn.execute(
            text("SELECT count(*) FROM workstation.logins WHERE revoked_at IS NOT NULL")
        ).scalar_one()
    assert revoked == 2


def test_a_user_deactivated_by_the_web_loses_their_login_at_once(world: World) -> None:
    central, b = world.central, world.b
    login = world.logins[b.email]
    open_session = central.connect_as(login)
    with central.engine.begin() as web:
        web.execute(text("UPDATE users SET is_active = false WHERE id = :b"), {"b": b.id})

    _wait_closed(open_session)
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        central.connect_as(login)
    with pytest.raises(Exception, match="inactive"):
        grant(central, b.email)
    # Other users' logins are untouched.
    central.connect_as(world.logins[world.a.email]).close()
