"""The rows of an export: one query per kind, the same ORM statement on SQLite and PostgreSQL.

Date range: an annotation is in when its ``created_at`` falls on a day from ``start`` to
``end``, both whole days, counted in UTC: the zone the exported ``annotation_date`` is written
in, so a row that reads 2026-03-05 is in an export "to 2026-03-05" and never one "from
2026-03-06". Deleted: a media inactive, its study inactive, or (for a still) its ``frames`` row
inactive. Rows come in the order of ``created_at`` (then id), as the web exports them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, inspect, or_, select
from sqlalchemy.orm import Session

from iamedic_desktop.models import (
    Frame,
    Media,
    MediaFile,
    PictureBBAnnotation,
    PictureClassificationAnnotation,
    Study,
)
from iamedic_desktop.schemas.exports import ExportFilters


@dataclass(frozen=True)
class MediaRef:
    """What an export needs of a media: its key, names, type, size, and a still's pixel size."""

    id: uuid.UUID
    file_path: str
    filename: str  # the display name: only ever used in error messages
    mime_type: str
    media_type: str
    file_size: int
    frame_size: tuple[int, int] | None  # a still's (width, height) from its frames row


@dataclass(frozen=True)
class LabelRow:
    """One usefulness label."""

    media: MediaRef
    usefulness: int
    created_at: dt.datetime


@dataclass(frozen=True)
class BoxRow:
    """One clinician box, in pixels of the stored image."""

    media: MediaRef
    bb_class: str
    x_min: float
    y_min: float
    width: float
    height: float
    created_at: dt.datetime


_IN_BATCH = 500  # keys per IN (...): well under any driver's limit on bound parameters
_MEDIA_COLUMNS = (
    Media.id,
    Media.file_path,
    Media.filename,
    Media.mime_type,
    Media.media_type,
    Media.file_size,
    # Labelled: a box row has width and height columns of its own.
    Frame.width.label("frame_width"),
    Frame.height.label("frame_height"),
)


def day_bounds(filters: ExportFilters) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first moment in, and the first moment after, the range (UTC; None: open)."""
    low = high = None
    if filters.start is not None:
        low = dt.datetime.combine(filters.start, dt.time(), tzinfo=dt.UTC)
    if filters.end is not None:
        # The end day is whole: everything before the next day's midnight.
        high = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return low, high


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])
_Annotation = type[PictureClassificationAnnotation] | type[PictureBBAnnotation]


def _filtered(
    query: _Query, model: _Annotation, filters: ExportFilters, owner: uuid.UUID | None
) -> _Query:
    created = model.created_at
    query = query.join(Media, Media.id == model.media_id)
    query = query.join(Study, Study.id == Media.study_id)
    query = query.outerjoin(Frame, Frame.frame_media_id == Media.id)
    low, high = day_bounds(filters)
    if low is not None:
        query = query.where(created >= low)
    if high is not None:
        query = query.where(created < high)
    if not filters.include_deleted:
        query = query.where(
            Media.is_active.is_(True),
            Study.is_active.is_(True),
            or_(Frame.id.is_(None), Frame.is_active.is_(True)),
        )
    if owner is not None:
        query = query.where(Study.doctor_id == owner)
    return query.order_by(created, model.id)


def _media(row: Any) -> MediaRef:
    media_type = row.media_type
    return MediaRef(
        id=row.id,
        file_path=row.file_path,
        filename=row.filename,
        mime_type=row.mime_type,
        media_type=str(getattr(media_type, "value", media_type)),
        file_size=int(row.file_size),
        frame_size=(
            (int(row.frame_width), int(row.frame_height)) if row.frame_width is not None else None
        ),
    )


def label_rows(session: Session, filters: ExportFilters, owner: uuid.UUID | None) -> list[LabelRow]:
    """The usefulness labels in range; only ``owner``'s studies when given."""
    label = PictureClassificationAnnotation
    query = select(label.usefulness, label.created_at, *_MEDIA_COLUMNS)
    found = session.execute(_filtered(query, label, filters, owner))
    return [LabelRow(_media(r), int(r.usefulness), r.created_at) for r in found]


def box_rows(session: Session, filters: ExportFilters, owner: uuid.UUID | None) -> list[BoxRow]:
    """The clinician boxes in range (hidden ones on request); ``owner``'s studies when given."""
    box = PictureBBAnnotation
    query = select(
        box.bb_class, box.x_min, box.y_min, box.width, box.height, box.created_at, *_MEDIA_COLUMNS
    )
    if not filters.include_hidden:
        query = query.where(box.is_hidden.is_(False))
    found = session.execute(_filtered(query, box, filters, owner))
    return [
        BoxRow(_media(r), r.bb_class, r.x_min, r.y_min, r.width, r.height, r.created_at)
        for r in found
    ]


def probed_sizes(session: Session, keys: list[str]) -> dict[str, tuple[int, int]]:
    """(width, height) the local store recorded at import for these file keys (videos mostly).

    A store without the local ``media_files`` table (the central database) knows none.
    """
    sizes: dict[str, tuple[int, int]] = {}
    if not keys or not inspect(session.connection()).has_table(MediaFile.__tablename__):
        return sizes
    found: list[tuple[str, str | None]] = []
    for start in range(0, len(keys), _IN_BATCH):
        query = select(MediaFile.file_path, MediaFile.probe_json).where(
            MediaFile.file_path.in_(keys[start : start + _IN_BATCH]),
            MediaFile.probe_json.is_not(None),
        )
        found.extend((key, probe) for key, probe in session.execute(query))
    for key, probe_json in found:
        if probe_json is None:
            continue
        try:
            probe = json.loads(probe_json)
        except ValueError:
            continue
        if not isinstance(probe, dict):
            continue
        width = probe.get("display_width") or probe.get("width")
        height = probe.get("display_height") or probe.get("height")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            sizes[key] = (width, height)
    return sizes


def distinct_media(rows: list[LabelRow] | list[BoxRow]) -> list[MediaRef]:
    """The media of ``rows``, each once, in the order they first appear."""
    seen: dict[uuid.UUID, MediaRef] = {}
    for row in rows:
        seen.setdefault(row.media.id, row.media)
    return list(seen.values())
