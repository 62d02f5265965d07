"""Central rows written in plain SQL the way the web backend writes them, for sync tests.

Ids are made by the caller (uuid4), timestamps by the database server's ``now()``; box saves
delete every box of the media and insert the new list with new ids, as the web does; an
upload copies its file into the web's media folder under a new key before the row names it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

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


# --- The web's habits with files, stills, boxes in place and labels (convergence tests) -------

Box = tuple[float, float, float, float]


def upload_media(
    conn: Connection,
    media_root: Path,
    study_id: uuid.UUID,
    source: Path,
    *,
    mime_type: str,
    media_type: str = "image",
    filename: str | None = None,
) -> uuid.UUID:
    """The web's upload: the file copied into its media folder under a new key, then its row
    (exact size and MIME type)."""
    key = str(uuid.uuid4())
    shutil.copyfile(source, media_root / key)
    media_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO media (id, study_id, filename, file_path, file_size, mime_type, "
            "media_type, upload_status, is_active) VALUES (:id, :s, :name, :p, :size, :mime, "
            "CAST(:t AS mediatype), 'uploaded', true)"
        ),
        {
            "id": media_id,
            "s": study_id,
            "name": filename or source.name,
            "p": key,
            "size": source.stat().st_size,
            "mime": mime_type,
            "t": media_type,
        },
    )
    return media_id


def extract_still(
    conn: Connection,
    media_root: Path,
    video_id: uuid.UUID,
    jpeg: Path,
    *,
    timestamp_seconds: float,
    size: tuple[int, int],
) -> uuid.UUID:
    """The web's manual extraction: a JPEG still of ``video_id`` whose ``frame_number`` is the
    web's count of the video's active stills + 1, not the frame's index in the video."""
    study_id = conn.execute(
        text("SELECT study_id FROM media WHERE id = :v"), {"v": video_id}
    ).scalar_one()
    name = f"frame_{video_id}_{timestamp_seconds:.3f}s_{uuid.uuid4().hex[:8]}.jpg"
    still_id = upload_media(
        conn, media_root, study_id, jpeg, mime_type="image/jpeg", media_type="frame",
        filename=name,
    )  # fmt: skip
    count = conn.execute(
        text("SELECT count(*) FROM frames WHERE video_media_id = :v AND is_active"),
        {"v": video_id},
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO frames (id, video_media_id, frame_media_id, timestamp_seconds, "
            "frame_number, width, height, is_active) VALUES (:id, :v, :f, :ts, :n, :w, :h, true)"
        ),
        {
            "id": uuid.uuid4(),
            "v": video_id,
            "f": still_id,
            "ts": round(timestamp_seconds, 3),
            "n": count + 1,
            "w": size[0],
            "h": size[1],
        },
    )
    return still_id


def save_box_list(
    conn: Connection, media_id: uuid.UUID, boxes: Mapping[str, Box], media_type: str = "image"
) -> list[uuid.UUID]:
    """The web's box save with places: every box of the media deleted, ``boxes`` (class ->
    x, y, width, height) inserted with new ids and the server's clock."""
    conn.execute(text("DELETE FROM picture_bb_annotations WHERE media_id = :m"), {"m": media_id})
    ids = []
    for bb_class, (x, y, w, h) in sorted(boxes.items()):
        box_id = uuid.uuid4()
        conn.execute(
            text(
                "INSERT INTO picture_bb_annotations (id, media_id, media_type, bb_class, "
                "usefulness, x_min, y_min, width, height, is_hidden) VALUES (:id, :m, "
                "CAST(:t AS bb_annotation_media_type), :c, 1, :x, :y, :w, :h, false)"
            ),
            {"id": box_id, "m": media_id, "t": media_type, "c": bb_class,
             "x": x, "y": y, "w": w, "h": h},
        )  # fmt: skip
        ids.append(box_id)
    return ids


def set_label(
    conn: Connection, media_id: uuid.UUID, usefulness: int, media_type: str = "image"
) -> None:
    """The web's usefulness label: updated in place (server clock) or inserted; "not useful"
    removes the media's boxes, as the web's workflow does."""
    updated = conn.execute(
        text(
            "UPDATE picture_classification_annotations SET usefulness = :u, updated_at = now() "
            "WHERE media_id = :m"
        ),
        {"u": usefulness, "m": media_id},
    ).rowcount
    if not updated:
        conn.execute(
            text(
                "INSERT INTO picture_classification_annotations (id, media_id, media_type, "
                "usefulness) VALUES (:id, :m, CAST(:t AS annotation_media_type), :u)"
            ),
            {"id": uuid.uuid4(), "m": media_id, "t": media_type, "u": usefulness},
        )
    if usefulness == 0:
        conn.execute(
            text("DELETE FROM picture_bb_annotations WHERE media_id = :m"), {"m": media_id}
        )
