"""Migration 0005 on a store an earlier build filled: duplicates it let in stay (outside the
unique index), a failed row is known to have a missing file, and the trigger follows deletes."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, insert, select, update

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.migrate import LOCAL, alembic_config, upgrade_local
from iamedic_desktop.models import Media, MediaFile, Study, User

NOW = dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def _to_0004(engine: Engine) -> None:
    with engine.connect() as conn:
        command.upgrade(alembic_config(LOCAL, conn), "0004")


def _media(conn: object, study_id: uuid.UUID, source: str, minute: int, status: str) -> str:
    key = str(uuid.uuid4())
    values = {
        "id": uuid.uuid4(),
        "study_id": study_id,
        "filename": "scan.png",
        "file_path": key,
        "file_size": 10,
        "mime_type": "image/png",
        "media_type": "image",
        "upload_status": status,
        "is_active": True,
        "created_at": NOW + dt.timedelta(minutes=minute),
        "updated_at": NOW,
    }
    conn.execute(insert(Media.__table__).values(**values))  # type: ignore[attr-defined]
    conn.execute(  # type: ignore[attr-defined]
        insert(MediaFile.__table__).values(
            file_path=key, sha256="0" * 64, source_sha256=source, size=10, stored_at=NOW
        )
    )
    return key


def test_upgrade_keeps_earlier_duplicates_and_marks_missing_files(tmp_path: Path) -> None:
    engine = create_local_engine(tmp_path / "store.sqlite3")
    try:
        _to_0004(engine)
        user_id, study_id = uuid.uuid4(), uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(
                insert(User.__table__).values(
                    id=user_id,
                    email="d@x.invalid",
                    name="D",
                    google_id="g-1",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            conn.execute(
                insert(Study.__table__).values(
                    id=study_id,
                    doctor_id=user_id,
                    alias="S",
                    is_active=True,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            first = _media(conn, study_id, "a" * 64, 1, "uploaded")
            second = _media(conn, study_id, "a" * 64, 2, "uploaded")  # the race's duplicate
            failed = _media(conn, study_id, "b" * 64, 3, "failed")

        upgrade_local(engine)

        with engine.connect() as conn:
            files = {r.file_path: r for r in conn.execute(select(MediaFile.__table__)).mappings()}
        assert files[first]["active_study_id"] == study_id
        assert files[second]["active_study_id"] is None
        assert files[failed]["active_study_id"] == study_id
        assert files[failed]["missing_since"] is not None
        assert files[first]["missing_since"] is None
        # Deleting a media takes its content out of the rule; restoring puts it back.
        with engine.begin() as conn:
            conn.execute(
                update(Media.__table__).where(Media.file_path == first).values(is_active=False)
            )
            moved = conn.execute(
                select(MediaFile.active_study_id).where(MediaFile.file_path == first)
            ).scalar_one()
        assert moved is None
        with engine.begin() as conn:
            conn.execute(
                update(Media.__table__).where(Media.file_path == first).values(is_active=True)
            )
            back = conn.execute(
                select(MediaFile.active_study_id).where(MediaFile.file_path == first)
            ).scalar_one()
        assert back == study_id
    finally:
        engine.dispose()
