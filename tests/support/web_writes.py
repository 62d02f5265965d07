"""Central rows written in plain SQL the way the web backend writes them, for sync tests.

Ids are made by the caller (uuid4), timestamps by the database server's ``now()``; box saves
delete every box of the media and insert the new list with new ids, as the web does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, text


def insert_user(conn: Connection, name: str = "Doctor") -> uuid.UUID:
    """A user row (a doctor's user id owns studies)."""
    user_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO users (id, email, name, google_id, is_active) "
            "VALUES (:id, :email, :name, :g, true)"
        ),
        {"id": user_id, "email": f"{user_id}@example.org", "name": name, "g": f"g-{user_id}"},
    )
    return user_id


def insert_study(conn: Connection, doctor_id: uuid.UUID, alias: str = "S-1") -> uuid.UUID:
    """An active study of ``doctor_id``."""
    study_id = uuid.uuid4()
    conn.execute(
        text("INSERT INTO studies (id, doctor_id, alias, is_active) VALUES (:id, :d, :a, true)"),
        {"id": study_id, "d": doctor_id, "a": alias},
    )
    return study_id


def insert_media(
    conn: Connection,
    study_id: uuid.UUID,
    *,
    file_path: str | None = None,
    file_size: int = 10,
    media_type: str = "image",
) -> uuid.UUID:
    """An uploaded media row whose file is stored under ``file_path`` (a new uuid4 if None)."""
    media_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO media (id, study_id, filename, file_path, file_size, mime_type, "
            "media_type, upload_status, is_active) VALUES (:id, :s, 'scan.png', :p, :size, "
            "'image/png', CAST(:t AS mediatype), 'uploaded', true)"
        ),
        {
            "id": media_id,
            "s": study_id,
            "p": file_path or str(uuid.uuid4()),
            "size": file_size,
            "t": media_type,
        },
    )
    return media_id


def insert_frame(conn: Connection, video_id: uuid.UUID, still_id: uuid.UUID) -> uuid.UUID:
    """A frames row linking the still ``still_id`` to its video."""
    frame_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO frames (id, video_media_id, frame_media_id, timestamp_seconds, "
            "frame_number, width, height, is_active) VALUES (:id, :v, :f, 1.5, 1, 64, 48, true)"
        ),
        {"id": frame_id, "v": video_id, "f": still_id},
    )
    return frame_id


def save_boxes(conn: Connection, media_id: uuid.UUID, classes: Iterable[str]) -> list[uuid.UUID]:
    """The web's box save: every box of the media deleted, the list inserted with new ids."""
    conn.execute(text("DELETE FROM picture_bb_annotations WHERE media_id = :m"), {"m": media_id})
    ids = []
    for bb_class in classes:
        box_id = uuid.uuid4()
        conn.execute(
            text(
                "INSERT INTO picture_bb_annotations (id, media_id, media_type, bb_class, "
                "usefulness, x_min, y_min, width, height, is_hidden) VALUES (:id, :m, "
                "'image', :c, 1, 1.0, 2.0, 3.0, 4.0, false)"
            ),
            {"id": box_id, "m": media_id, "c": bb_class},
        )
        ids.append(box_id)
    return ids
