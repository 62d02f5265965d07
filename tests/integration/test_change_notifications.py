"""Central change notifications (revision 0004) and the listener that waits for them."""

from __future__ import annotations

import select
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import pytest
from alembic import command
from sqlalchemy import Engine, text

from iamedic_desktop.core.database import create_central_engine
from iamedic_desktop.core.errors import CentralDatabaseError
from iamedic_desktop.core.migrate import CENTRAL, alembic_config, upgrade_central
from iamedic_desktop.sync.notifications import CHANNEL, ChangeListener
from tests.support.web_writes import insert_media, insert_study, insert_user

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    # The workstation's own kind of engine (pool_pre_ping), as the sync loop will use.
    engine = create_central_engine(pg_database)
    upgrade_central(engine)
    yield engine
    engine.dispose()


@contextmanager
def _plain_listener(engine: Engine) -> Iterator[Any]:
    """A psycopg2 connection of its own listening on the channel: counts every notification."""
    url = engine.url
    conn = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    try:
        yield conn
    finally:
        conn.close()


def _every_notification(conn: Any, quiet: float = 0.5) -> list[str]:
    """The payloads delivered, one per notification, until none came for ``quiet`` seconds."""
    received: list[str] = []
    while True:
        conn.poll()
        received += [n.payload for n in conn.notifies]
        del conn.notifies[:]
        if not select.select([conn], [], [], quiet)[0]:
            return sorted(received)


def _commit_later(engine: Engine, delay: float, write: Any) -> tuple[threading.Thread, list[float]]:
    """Run ``write(conn)`` in its own transaction on another thread after ``delay`` seconds;
    the list gets the moment just before the commit."""
    moments: list[float] = []

    def run() -> None:
        time.sleep(delay)
        with engine.begin() as conn:
            write(conn)
            moments.append(time.monotonic())

    thread = threading.Thread(target=run)
    thread.start()
    return thread, moments


@pytest.mark.timing  # a wall-clock bound: run alone (.ci/dev test), not beside other workers
def test_a_web_write_wakes_a_waiting_listener_within_a_second_with_the_doctors_id(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)

    with ChangeListener(engine) as listener:
        assert listener.wait(0.2) == set()  # the user was written before it listened
        waiting = time.monotonic()
        writer, moments = _commit_later(engine, 0.3, lambda conn: insert_study(conn, doctor))
        received = listener.wait(5.0)
        woke = time.monotonic()
        writer.join()

    assert received == {str(doctor)}
    assert woke - waiting >= 0.25  # it really waited for the write
    assert woke - moments[0] < 1.0


def test_wait_returns_an_empty_set_when_nothing_changes(engine: Engine) -> None:
    with ChangeListener(engine) as listener:
        started = time.monotonic()
        received = listener.wait(0.3)
        waited = time.monotonic() - started

    assert received == set()
    assert 0.3 <= waited < 3.0


def test_a_1000_row_statement_notifies_once_per_doctor(engine: Engine) -> None:
    with engine.begin() as conn:
        doctors = [insert_user(conn), insert_user(conn)]
        studies = [insert_study(conn, d) for d in doctors]

    with _plain_listener(engine) as plain, ChangeListener(engine) as listener:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO media (id, study_id, filename, file_path, file_size, mime_type, "
                    "media_type, upload_status, is_active) SELECT gen_random_uuid(), "
                    "CASE WHEN i % 2 = 0 THEN CAST(:a AS uuid) ELSE CAST(:b AS uuid) END, "
                    "'scan.png', gen_random_uuid()::text, 10, 'image/png', 'image', 'uploaded', "
                    "true FROM generate_series(1, 1000) AS i"
                ),
                {"a": studies[0], "b": studies[1]},
            )
        every = _every_notification(plain)
        received = listener.wait(5.0)
    with engine.connect() as conn:
        entries = conn.execute(
            text("SELECT count(*) FROM workstation.change_feed WHERE table_name = 'media'")
        ).scalar()

    assert entries == 1000
    assert every == sorted(str(d) for d in doctors)
    assert received == {str(d) for d in doctors}


def test_a_rolled_back_transaction_notifies_nobody(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)

    with _plain_listener(engine) as plain, ChangeListener(engine) as listener:
        with engine.connect() as conn:
            transaction = conn.begin()
            insert_study(conn, doctor)
            transaction.rollback()
        assert listener.wait(1.0) == set()
        assert _every_notification(plain) == []
        with engine.begin() as conn:
            insert_study(conn, doctor)
        assert listener.wait(5.0) == {str(doctor)}


def test_a_row_without_a_doctor_notifies_an_empty_payload(engine: Engine) -> None:
    with ChangeListener(engine) as listener:
        with engine.begin() as conn:
            # A media row of an unknown study (the web never writes one) has no owner: written
            # with foreign keys and triggers off, as a restore of a partial dump would.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            insert_media(conn, uuid.uuid4())
        assert listener.wait(0.3) == set()
        with engine.begin() as conn:
            conn.execute(text("UPDATE media SET filename = 'orphan.png'"))
        received = listener.wait(5.0)

    assert received == {""}


def test_a_terminated_listener_connection_raises_a_clear_error(engine: Engine) -> None:
    with engine.begin() as conn:
        doctor = insert_user(conn)

    with ChangeListener(engine) as listener:
        with engine.begin() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query = :q"
                ),
                {"q": f"LISTEN {CHANNEL}"},
            ).scalar()
        started = time.monotonic()
        with pytest.raises(CentralDatabaseError, match="listening for central changes was lost"):
            listener.wait(5.0)
        noticed = time.monotonic() - started
        with pytest.raises(CentralDatabaseError, match="closed"):
            listener.wait(0.1)

    assert killed == 1
    assert noticed < 3.0  # told by the server, not by the 5 s timeout
    with ChangeListener(engine) as again:  # the caller's reconnect
        with engine.begin() as conn:
            insert_study(conn, doctor)
        assert again.wait(5.0) == {str(doctor)}


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    engine = create_central_engine("postgresql://iamedic:s3cret-pw@127.0.0.1:1/central")
    try:
        with pytest.raises(CentralDatabaseError, match="cannot be reached") as raised:
            ChangeListener(engine)
    finally:
        engine.dispose()

    assert "s3cret-pw" not in str(raised.value)
    assert "\n" not in str(raised.value)


def _function(engine: Engine) -> tuple[str, ...]:
    """record_change() as the catalog holds it: definition, owner, grants, security."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT pg_get_functiondef(p.oid), p.proowner::regrole::text, "
                "coalesce(p.proacl::text, ''), p.prosecdef::text FROM pg_proc p "
                "WHERE p.oid = 'workstation.record_change()'::regprocedure"
            )
        ).one()
    return tuple(row)


def test_downgrade_to_0003_restores_its_function_and_notifies_nobody(pg_database: str) -> None:
    engine = create_central_engine(pg_database)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(CENTRAL, conn), "0003")
        at_0003 = _function(engine)
        upgrade_central(engine)
        at_0004 = _function(engine)
        with engine.connect() as conn:
            command.downgrade(alembic_config(CENTRAL, conn), "0003")
        downgraded = _function(engine)

        with ChangeListener(engine) as listener:
            with engine.begin() as conn:
                doctor = insert_user(conn)
            received = listener.wait(1.0)
        with engine.connect() as conn:
            entries = conn.execute(text("SELECT count(*) FROM workstation.change_feed")).scalar()
    finally:
        engine.dispose()

    assert "pg_notify" not in at_0003[0]
    assert f"pg_notify('{CHANNEL}', coalesce(v_doctor::text, ''))" in at_0004[0]
    assert at_0004[1:] == at_0003[1:]  # owner, grants and SECURITY DEFINER kept
    assert downgraded == at_0003
    assert received == set()
    assert entries == 1 and doctor is not None
