"""A still the web wrote, landed in the local store as a pull lands it (for placement tests).

The web's manual extraction writes ``frame_number`` as its count of the video's stills + 1
(spec: "What the web does to shared rows"); the rows are written here with core inserts, so no
outbox entry records them: this workstation did not write them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, insert, select

from iamedic_desktop.models import Frame, Media, MediaType, UploadStatus


def pulled_still(
    engine: Engine,
    video_id: uuid.UUID,
    *,
    timestamp_seconds: float,
    frame_number: int,
    width: int = 320,
    height: int = 240,
) -> uuid.UUID:
    """A still of ``video_id`` (media row and frames row) as the web wrote it; its media id."""
    still_id = uuid.uuid4()
    with engine.begin() as conn:
        study_id = conn.execute(select(Media.study_id).where(Media.id == video_id)).scalar_one()
        conn.execute(
            insert(Media),
            [
                {
                    "id": still_id,
                    "study_id": study_id,
                    "filename": f"frame_{video_id}_{timestamp_seconds:.3f}s_0badc0de.jpg",
                    "file_path": str(uuid.uuid4()),
                    "file_size": 1234,
                    "mime_type": "image/jpeg",
                    "media_type": MediaType.FRAME,
                    "upload_status": UploadStatus.UPLOADED,
                    "is_active": True,
                }
            ],
        )
        conn.execute(
            insert(Frame),
            [
                {
                    "id": uuid.uuid4(),
                    "video_media_id": video_id,
                    "frame_media_id": still_id,
                    "timestamp_seconds": timestamp_seconds,
                    "frame_number": frame_number,
                    "width": width,
                    "height": height,
                    "is_active": True,
                }
            ],
        )
    return still_id
