"""The central change feed: what the triggers record, versions, and reading since a cursor."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from iamedic_desktop.core.errors import SyncError
from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.sync.central_feed import (
    Change,
    consistent_read,
    current_versions,
    read_changes,
)
from tests.support.web_writes import (
    insert_frame,
    insert_media,
    insert_study,
    insert_user,
    save_boxes,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    upgrade_central(engine)
    yield engine
    engine.dispose()


def _read(engine: Engine, cursor: str | None, **kwargs: object) -> tuple[list[Change], str]:
    with engine.connect() as conn:
        return read_changes(conn, cursor, **kwargs)  # type: ignore[arg-type]


def _ops(changes: list[Change]) -> list[tuple[str, str]]:
    return [(c.table, c.op) for c in changes]


def test_plain_sql_inserts_updates_and_box_saves_are_recorded_with_owners(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)
        study = insert_study(conn, doctor)
        media = insert_media(conn, study)
        first_box = save_boxes(conn, media, ["head"])[0]
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE studies SET alias = 'S-2', updated_at = now() WHERE id = :s"),
            {"s": study},
        )
        second_box = save_boxes(conn, media, ["head", "abdomen"])

    changes, _ = _read(engine, None)

    assert _ops(changes) == [
        ("users", "I"),
        ("studies", "I"),
        ("media", "I"),
        ("picture_bb_annotations", "I"),
        ("studies", "U"),
        ("picture_bb_annotations", "D"),
        ("picture_bb_annotations", "I"),
        ("picture_bb_annotations", "I"),
    ]
    assert {c.doctor_id for c in changes} == {doctor}
    assert [c.study_id for c in changes[1:]] == [study] * 7
    assert {c.media_id for c in changes if c.table not in {"users", "studies"}} == {media}
    update, deleted = changes[4], changes[5]
    assert update.row["alias"] == "S-2" and update.version == 2
    assert (deleted.row_id, deleted.row["bb_class"]) == (first_box, "head")
    assert [c.row_id for c in changes[6:]] == second_box
    assert len({c.txid for c in changes[:4]}) == 1
    assert changes[4].txid > changes[0].txid


def test_a_cascaded_delete_records_every_row_with_its_doctor(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)
        study = insert_study(conn, doctor)
        video = insert_media(conn, study, media_type="video")
        still = insert_media(conn, study, media_type="frame")
        frame = insert_frame(conn, video, still)
        box = save_boxes(conn, still, ["head"])[0]
    _, cursor = _read(engine, None)

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM studies WHERE id = :s"), {"s": study})
    changes, _ = _read(engine, cursor)

    assert {(c.table, c.row_id) for c in changes} == {
        ("studies", study),
        ("media", video),
        ("media", still),
        ("frames", frame),
        ("picture_bb_annotations", box),
    }
    assert {c.op for c in changes} == {"D"}
    assert {(c.doctor_id, c.study_id) for c in changes} == {(doctor, study)}
    assert next(c for c in changes if c.table == "frames").media_id == video


def test_the_version_of_a_row_goes_up_with_every_change(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)
        study = insert_study(conn, doctor)
    for alias in ("A", "B"):
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE studies SET alias = :a WHERE id = :s"), {"a": alias, "s": study}
            )

    changes, _ = _read(engine, None)
    with engine.connect() as conn:
        versions = current_versions(conn, "studies", [study, uuid.uuid4()])

    assert [c.version for c in changes if c.table == "studies"] == [1, 2, 3]
    assert versions == {study: 3}


def test_a_transaction_committing_late_is_read_once_after_it_commits(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)
    _, cursor = _read(engine, None)

    with engine.connect() as early:
        early_tx = early.begin()
        first = insert_study(early, doctor, "early")  # its transaction id is the older one
        with engine.begin() as late:
            second = insert_study(late, doctor, "late")

        seen_while_open, cursor = _read(engine, cursor)
        early_tx.commit()
    seen_after, cursor = _read(engine, cursor)
    seen_again, _ = _read(engine, cursor)

    assert [c.row_id for c in seen_while_open] == [second]
    assert [c.row_id for c in seen_after] == [first]
    assert seen_after[0].txid < seen_while_open[0].txid
    assert seen_again == []


def test_paging_loses_nothing_even_when_commits_come_between_pages(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)
        studies = [insert_study(conn, doctor, f"S-{i}") for i in range(5)]
    _, cursor = _read(engine, None)
    with engine.begin() as conn:
        batch = [insert_study(conn, doctor, f"B-{i}") for i in range(5)]

    seen: list[uuid.UUID] = []
    page, cursor = _read(engine, cursor, limit=2)
    seen += [c.row_id for c in page]
    with engine.begin() as conn:
        later = insert_study(conn, doctor, "later")
    while True:
        page, cursor = _read(engine, cursor, limit=2)
        seen += [c.row_id for c in page]
        if len(page) < 2:
            break

    assert seen == [*batch, later]
    assert not set(seen) & set(studies)


def test_one_doctor_reads_only_their_own_changes(engine: Engine) -> None:
    with engine.begin() as conn:
        mine, other = insert_user(conn, "Mine"), insert_user(conn, "Other")
        study = insert_study(conn, mine)
        insert_media(conn, insert_study(conn, other))
        media = insert_media(conn, study)

    changes, _ = _read(engine, None, doctor_id=mine)

    assert [(c.table, c.row_id) for c in changes] == [
        ("users", mine),
        ("studies", study),
        ("media", media),
    ]


def test_a_full_load_and_its_cursor_see_each_change_once(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)
        insert_study(conn, doctor, "before")
    with engine.connect() as conn, consistent_read(conn) as cursor:
        loaded = conn.execute(text("SELECT alias FROM studies")).scalars().all()
    with engine.begin() as conn:
        after = insert_study(conn, doctor, "after")

    changes, _ = _read(engine, cursor)

    assert loaded == ["before"]
    assert [c.row_id for c in changes] == [after]


def test_rows_there_before_the_feed_have_a_version_and_an_owner(pg_database: str) -> None:
    engine = create_engine(pg_database)
    try:
        with engine.connect() as conn:
            from alembic import command

            from iamedic_desktop.core.migrate import CENTRAL, alembic_config

            command.upgrade(alembic_config(CENTRAL, conn), "0002")
        with engine.begin() as conn:
            doctor = insert_user(conn)
            study = insert_study(conn, doctor)
            media = insert_media(conn, study)
        upgrade_central(engine)
        with engine.connect() as conn:
            assert current_versions(conn, "media", [media]) == {media: 1}

        with engine.begin() as conn:
            conn.execute(text("DELETE FROM studies WHERE id = :s"), {"s": study})
        changes, _ = _read(engine, None)
    finally:
        engine.dispose()

    assert [(c.table, c.op, c.version, c.doctor_id) for c in changes] == [
        ("studies", "D", 2, doctor),
        ("media", "D", 2, doctor),
    ]


def test_the_webs_login_fills_the_feed_without_rights_on_the_workstation_schema(
    engine: Engine,
) -> None:
    role = f"web_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        # Not subject to row-level security (revision 0006), as the tables' owner is.
        conn.execute(text(f"CREATE ROLE {role} BYPASSRLS"))
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            doctor = insert_user(conn)
            with pytest.raises(ProgrammingError, match="permission denied"), conn.begin_nested():
                conn.execute(text("SELECT 1 FROM workstation.change_feed"))
        changes, _ = _read(engine, None)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))

    assert [(c.table, c.row_id) for c in changes] == [("users", doctor)]
    assert make_url(str(engine.url)).username == "postgres"


def test_a_damaged_cursor_is_refused_with_a_clear_message(engine: Engine) -> None:
    with pytest.raises(SyncError, match="sync position is damaged"):
        _read(engine, "12:oops")


def test_the_webs_google_tokens_never_reach_the_feed(engine: Engine) -> None:
    with engine.begin() as conn:
        user = insert_user(conn)
        conn.execute(
            text("UPDATE users SET access_token = 'secret-access', "
                 "refresh_token = 'secret-refresh', token_expires_at = now() WHERE id = :u"),
            {"u": user},
        )  # fmt: skip
    with engine.connect() as conn:
        changes, _ = read_changes(conn, None)
        feed_text = conn.execute(text("SELECT row_data::text FROM workstation.change_feed")).all()
    assert [c.op for c in changes if c.table == "users"] == ["I", "U"]
    assert not any("secret" in row[0] or "token" in row[0] for row in feed_text)
