"""The audit log's chain: what the owner edits or deletes is found, other roles cannot touch it,
and the listing filters by user, study, table and time."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from iamedic_desktop.core.errors import CentralDatabaseError, InvalidInputError
from iamedic_desktop.sync import audit
from tests.support.web_writes import insert_media, insert_study, insert_user

pytestmark = pytest.mark.postgres


@pytest.fixture
def other_role(central: Engine) -> Iterator[Engine]:
    """A login that does not own the log (and is not held back by row-level security)."""
    role = f"other_{uuid.uuid4().hex[:10]}"
    with central.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN BYPASSRLS"))
    other = create_engine(central.url.set(username=role))
    try:
        yield other
    finally:
        other.dispose()
        with central.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def five_entries(engine: Engine) -> None:
    """Entries 1 to 5: a user, two studies, a media, an update."""
    with engine.begin() as conn:
        doctor = insert_user(conn)
        study = insert_study(conn, doctor, "A")
        insert_study(conn, doctor, "B")
    with engine.begin() as conn:
        insert_media(conn, study)
        conn.execute(text("UPDATE studies SET alias = 'A2' WHERE id = :s"), {"s": study})


def check(engine: Engine, anchor: tuple[int, str] | None = None) -> audit.VerifyResult:
    with engine.connect() as conn:
        return audit.verify(conn, anchor=anchor)


def owner(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def test_an_intact_log_verifies_and_names_its_end(central: Engine) -> None:
    assert check(central) == audit.VerifyResult(True, 0, None, None, 0, audit.GENESIS)
    five_entries(central)
    result = check(central)
    with central.connect() as conn:
        head = conn.execute(text("SELECT entry_hash FROM workstation.audit_log WHERE id = 5"))
        assert (result.ok, result.checked, result.last_id) == (True, 5, 5)
        assert result.last_hash == head.scalar_one()


@pytest.mark.parametrize(
    ("sql", "broken", "reason"),
    [
        ("UPDATE workstation.audit_log SET new_values = '{}' WHERE id = 3", 3, "changed"),
        ("UPDATE workstation.audit_log SET changed_at = changed_at - interval '1 day' "
         "WHERE id = 2", 2, "changed"),
        ("UPDATE workstation.audit_log SET user_id = gen_random_uuid() WHERE id = 4", 4,
         "changed"),
        ("DELETE FROM workstation.audit_log WHERE id = 2", 2, "missing"),
        ("DELETE FROM workstation.audit_log WHERE id = 5", 5, "missing"),
        ("TRUNCATE workstation.audit_log", 1, "missing"),
        ("UPDATE workstation.audit_log SET prev_hash = entry_hash WHERE id = 4", 4, "follow"),
    ],
)  # fmt: skip
def test_an_owners_edit_or_deletion_is_the_first_broken_entry(
    central: Engine, sql: str, broken: int, reason: str
) -> None:
    five_entries(central)
    owner(central, sql)

    result = check(central)

    assert (result.ok, result.first_broken_id) == (False, broken)
    assert reason in (result.reason or "")
    assert result.checked == min(broken - 1, 4)


def test_a_rewritten_tail_is_found_against_an_anchor_kept_elsewhere(central: Engine) -> None:
    five_entries(central)
    anchor = (3, check_hash(central, 3))
    owner(central, "UPDATE workstation.audit_log SET new_values = '{}' WHERE id = 3")
    rehash_from(central, 3)  # entry 3, and every one after it, hashed again

    assert check(central).ok  # the chain alone cannot tell
    result = check(central, anchor)
    assert (result.ok, result.first_broken_id) == (False, 3)
    assert check(central, (7, anchor[1])).first_broken_id == 7  # an anchor beyond the end


def check_hash(engine: Engine, entry: int) -> str:
    with engine.connect() as conn:
        sql = text("SELECT entry_hash FROM workstation.audit_log WHERE id = :i")
        return str(conn.execute(sql, {"i": entry}).scalar_one())


def rehash_from(engine: Engine, start: int) -> None:
    """What an owner who knows the scheme does: hash every entry from ``start`` again."""
    with engine.begin() as conn:
        prev = conn.execute(
            text("SELECT prev_hash FROM workstation.audit_log WHERE id = :i"), {"i": start}
        ).scalar_one()
        rows = conn.execute(
            text(
                f"SELECT id, {audit.CANONICAL_TEXT} FROM workstation.audit_log "
                "WHERE id >= :i ORDER BY id"
            ),
            {"i": start},
        ).all()
        for entry, canonical in rows:
            new = audit.entry_hash(prev, canonical)
            conn.execute(
                text("UPDATE workstation.audit_log SET prev_hash = :p, entry_hash = :h "
                     "WHERE id = :i"),
                {"p": prev, "h": new, "i": entry},
            )  # fmt: skip
            prev = new
        conn.execute(text("UPDATE workstation.audit_chain_head SET last_hash = :h"), {"h": prev})


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE workstation.audit_log SET login = 'nobody'",
        "DELETE FROM workstation.audit_log",
        "TRUNCATE workstation.audit_log",
        "UPDATE workstation.audit_chain_head SET last_id = 0",
        "DELETE FROM workstation.audit_pending",
    ],
)
def test_another_role_cannot_change_the_log_even_when_granted_it(
    central: Engine, other_role: Engine, sql: str
) -> None:
    five_entries(central)
    role = other_role.url.username
    with other_role.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
        conn.execute(text(sql))
    owner(central, f"GRANT USAGE ON SCHEMA workstation TO {role}")
    owner(central, f"GRANT ALL ON workstation.audit_log TO {role}")  # a careless grant

    with other_role.connect() as conn:
        pattern = "append-only" if "audit_log" in sql else "permission denied"
        with pytest.raises(DBAPIError, match=pattern):
            conn.execute(text(sql))
    assert check(central).ok


def test_a_login_without_the_right_to_read_the_log_is_told_what_to_ask_for(
    central: Engine, other_role: Engine
) -> None:
    with other_role.connect() as conn, pytest.raises(CentralDatabaseError, match="grant it"):
        audit.verify(conn)


def test_entries_are_listed_by_user_study_table_and_time(central: Engine) -> None:
    with central.begin() as conn:
        doctor = insert_user(conn)
        first = insert_study(conn, doctor, "First")
    start = dt.datetime.now(dt.UTC)
    me = uuid.uuid4()
    with central.begin() as conn:
        conn.execute(text("SET iamedic.user_id = :u"), {"u": str(me)})
        insert_media(conn, first)
        second = insert_study(conn, doctor, "Second")
        insert_media(conn, second)

    with central.connect() as conn:
        everything = audit.list_entries(conn)
        mine = audit.list_entries(conn, user=me)
        of_first = audit.list_entries(conn, study=first)
        media = audit.list_entries(conn, table="media", since=start)
        before = audit.list_entries(conn, until=start)
        page = audit.list_entries(conn, limit=2, offset=1)
        by_alias = audit.find_study(conn, "Second")
        by_email = audit.find_user(conn, email_of(central, doctor))

    assert [e.id for e in everything] == [5, 4, 3, 2, 1]  # newest first
    assert [e.id for e in mine] == [5, 4, 3]
    assert [(e.table_name, e.op) for e in of_first] == [("media", "I"), ("studies", "I")]
    assert [e.study_id for e in media] == [second, first]
    assert [e.id for e in before] == [2, 1]
    assert [e.id for e in page] == [4, 3]
    assert (by_alias, by_email) == (second, doctor)


def email_of(engine: Engine, user: uuid.UUID) -> str:
    with engine.connect() as conn:
        sql = text("SELECT email FROM users WHERE id = :u")
        return str(conn.execute(sql, {"u": user}).scalar_one())


def test_a_deleted_user_is_still_found_by_email_and_a_shared_alias_is_refused(
    central: Engine,
) -> None:
    with central.begin() as conn:
        one, two = insert_user(conn), insert_user(conn)
        insert_study(conn, one, "Same")
        insert_study(conn, two, "Same")
        email = conn.execute(text("SELECT email FROM users WHERE id = :u"), {"u": one}).scalar()
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": one})

    with central.connect() as conn:
        assert audit.find_user(conn, str(email)) == one
        with pytest.raises(InvalidInputError, match="Several studies"):
            audit.find_study(conn, "Same")
        with pytest.raises(InvalidInputError, match="No user"):
            audit.find_user(conn, "nobody@example.org")
        with pytest.raises(InvalidInputError, match="Unknown table"):
            audit.list_entries(conn, table="alembic_version")
