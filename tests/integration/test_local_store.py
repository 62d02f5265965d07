"""Opening the embedded store: first start creates the local clinician, later starts reuse it."""

from __future__ import annotations

import sqlite3

from sqlalchemy import func, select

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import (
    DoctorProfile,
    LocalIdentity,
    OutboxEntry,
    Study,
    User,
    UserRole,
)
from iamedic_desktop.services.local_store import open_local_store


def test_first_start_creates_one_local_admin_doctor() -> None:
    store = open_local_store(get_settings())
    try:
        with store.uow() as uow:
            users = uow.session.scalars(select(User)).all()
            roles = set(uow.session.scalars(select(UserRole.role)).all())
            profile = uow.session.scalars(select(DoctorProfile)).one()
            identity = uow.session.get(LocalIdentity, 1)
        assert [u.id for u in users] == [store.actor.user_id]
        assert roles == {"admin", "doctor"}
        assert profile.status == "approved"
        assert identity is not None and identity.local_user_id == store.actor.user_id
    finally:
        store.close()


def test_second_start_reuses_the_store_and_its_user() -> None:
    first = open_local_store(get_settings())
    first.close()
    second = open_local_store(get_settings())
    try:
        assert second.actor == first.actor
        with second.uow() as uow:
            assert uow.session.scalar(select(func.count()).select_from(User)) == 1
    finally:
        second.close()


def test_store_is_sqlite_in_wal_mode() -> None:
    settings = get_settings()
    open_local_store(settings).close()
    conn = sqlite3.connect(settings.local_db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_local_changes_are_recorded_in_the_outbox_in_the_same_transaction() -> None:
    store = open_local_store(get_settings())
    try:
        with store.uow() as uow:
            before = uow.session.scalar(select(func.count()).select_from(OutboxEntry))
            study = Study(doctor_id=store.actor.user_id, alias="Outbox check", is_active=True)
            uow.session.add(study)
            uow.commit()
        with store.uow() as uow:
            uow.session.add(
                Study(doctor_id=store.actor.user_id, alias="Rolled back", is_active=True)
            )
            uow.session.flush()
            uow.rollback()
        with store.uow() as uow:
            entries = uow.session.scalars(
                select(OutboxEntry).order_by(OutboxEntry.seq).offset(before)
            ).all()
        assert [(e.table_name, e.row_id, e.operation) for e in entries] == [
            ("studies", study.id, "insert")
        ]
    finally:
        store.close()
