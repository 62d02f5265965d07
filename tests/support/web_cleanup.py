"""A stand-in of the web backend's start-up cleanup (spec/domain_rules.md), in plain SQL.

Every media row, active or not, whose ``<media root>/<file_path>`` is missing is hard-deleted;
the foreign keys' cascade removes its frames, predictions and annotations.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text


def web_startup_cleanup(engine: Engine, media_root: Path) -> int:
    """Delete the media rows whose file is missing from ``media_root``; return how many."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, file_path FROM media")).all()
        missing = [media_id for media_id, key in rows if not (media_root / key).exists()]
        for media_id in missing:
            conn.execute(text("DELETE FROM media WHERE id = :m"), {"m": media_id})
    return len(missing)
