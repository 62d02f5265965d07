"""Reading stores for convergence checks: every table in one doctor's scope, the boxes and labels
by key (the sync oracle's form), the conflict copies a workstation keeps, the files it holds.

Works on the local SQLite store and on the central PostgreSQL alike (Core queries, typed
parameters), so the same function reads the three writers' views.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from iamedic_desktop.sync.rows import TABLE_ORDER, columns, table
from tests.support.sync_oracle import Key, box_key, label_key


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return getattr(value, "value", value)


def _scope_filters(doctor_id: uuid.UUID) -> dict[str, Any]:
    studies, media = table("studies"), table("media")
    study_ids = select(studies.c.id).where(studies.c.doctor_id == doctor_id)
    media_ids = select(media.c.id).where(media.c.study_id.in_(study_ids))
    found: dict[str, Any] = {
        "users": table("users").c.id == doctor_id,
        "user_roles": table("user_roles").c.user_id == doctor_id,
        "doctor_profiles": table("doctor_profiles").c.user_id == doctor_id,
        "studies": studies.c.doctor_id == doctor_id,
        "media": media.c.study_id.in_(study_ids),
        "frames": table("frames").c.video_media_id.in_(media_ids),
    }
    for name in TABLE_ORDER[6:]:
        found[name] = table(name).c.media_id.in_(media_ids)
    return found


def scope_rows(engine: Engine, doctor_id: uuid.UUID) -> dict[str, set[tuple[Any, ...]]]:
    """Every synced table's rows (the copied columns) in ``doctor_id``'s scope."""
    out: dict[str, set[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, condition in _scope_filters(doctor_id).items():
            tbl = table(name)
            query = select(*(tbl.c[c] for c in columns(name))).where(condition)
            out[name] = {tuple(_norm(v) for v in row) for row in conn.execute(query)}
    return out


def annotations_by_key(engine: Engine, doctor_id: uuid.UUID) -> dict[Key, Any]:
    """The boxes (x, y, width, height) and usefulness labels of the doctor's media, by key."""
    filters = _scope_filters(doctor_id)
    boxes, labels = table("picture_bb_annotations"), table("picture_classification_annotations")
    found: dict[Key, Any] = {}
    with engine.connect() as conn:
        for row in conn.execute(select(boxes).where(filters["picture_bb_annotations"])):
            found[box_key(row.media_id, row.bb_class)] = box_value(row._mapping)
        for row in conn.execute(
            select(labels).where(filters["picture_classification_annotations"])
        ):
            found[label_key(row.media_id)] = row.usefulness
    return found


def box_value(row: Any) -> tuple[float, float, float, float]:
    """A box row's place, as the oracle holds it."""
    return tuple(float(row[c]) for c in ("x_min", "y_min", "width", "height"))  # type: ignore[return-value]


def conflict_copies(conflicts: list[dict[str, Any]]) -> list[tuple[Key, Any]]:
    """The (key, local value) of each open conflict of ``iamedic sync conflicts --json`` (or
    ``ConflictView.as_json``): the local version a conflict kept (None: deleted here)."""
    out: list[tuple[Key, Any]] = []
    for conflict in conflicts:
        side = conflict["local"] or conflict["central"]
        if conflict["table"] == "picture_bb_annotations":
            key = box_key(side["media_id"], side["bb_class"])
            value = box_value(conflict["local"]) if conflict["local"] else None
        elif conflict["table"] == "picture_classification_annotations":
            key = label_key(side["media_id"])
            value = conflict["local"]["usefulness"] if conflict["local"] else None
        else:
            raise AssertionError(f"unexpected conflict on {conflict['table']}: {conflict}")
        out.append((key, value))
    return out


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def central_file_hashes(engine: Engine, doctor_id: uuid.UUID, media_root: Path) -> dict[str, str]:
    """The SHA-256 of the file of each of the doctor's active media in the web's media folder,
    by file key."""
    media = table("media")
    with engine.connect() as conn:
        keys = conn.execute(
            select(media.c.file_path).where(
                _scope_filters(doctor_id)["media"], media.c.is_active.is_(True)
            )
        ).scalars()
        return {key: sha256_of(media_root / key) for key in keys}
