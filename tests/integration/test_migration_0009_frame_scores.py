"""Migration 0009 on a store an earlier build filled: the frame scores table comes, one row per
(video, model version), the other rows stay; a downgrade drops the table and nothing else."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.migrate import LOCAL, alembic_config, local_status, upgrade_local
from iamedic_desktop.models.local import BoxSource, FrameScores

NOW = dt.datetime(2026, 12, 4, 5, 6, 7, tzinfo=dt.UTC)
VERSION = "frame_classifier_224x224 - 3"


def test_upgrade_adds_frame_scores_and_keeps_the_rest(tmp_path: Path) -> None:
    engine = create_local_engine(tmp_path / "store.sqlite3")
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(LOCAL, conn), "0008")
        assert "frame_scores" not in inspect(engine).get_table_names()
        media_id = uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(
                insert(BoxSource.__table__).values(  # type: ignore[attr-defined]
                    media_id=media_id, bb_class="NT", model_version="bb - 1", confidence=0.9,
                    accepted_at=NOW,
                )
            )  # fmt: skip

        upgrade_local(engine)

        assert local_status(engine).is_current
        scores = np.array([0.25, 0.5, 0.875], dtype="<f4")  # exact in float32
        with engine.begin() as conn:
            assert conn.execute(select(BoxSource.media_id)).scalars().all() == [media_id]
            conn.execute(
                insert(FrameScores.__table__).values(  # type: ignore[attr-defined]
                    video_media_id=media_id, model_version=VERSION, frame_count=3,
                    scores=scores.tobytes(), created_at=NOW,
                )
            )  # fmt: skip
            row = conn.execute(select(FrameScores.__table__)).one()  # type: ignore[attr-defined]
        assert np.frombuffer(row.scores, "<f4").tolist() == [0.25, 0.5, 0.875]
        assert row.frame_count == 3 and row.model_version == VERSION
        with pytest.raises(IntegrityError), engine.begin() as conn:  # one row per pair
            conn.execute(
                insert(FrameScores.__table__).values(  # type: ignore[attr-defined]
                    video_media_id=media_id, model_version=VERSION, frame_count=0, scores=b"",
                    created_at=NOW,
                )
            )  # fmt: skip

        with engine.connect() as conn:
            command.downgrade(alembic_config(LOCAL, conn), "0008")
        assert "frame_scores" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM box_sources")).scalar() == 1
    finally:
        engine.dispose()
