"""The ten central tables as the sync sees them: order, identity, owners and row values.

A row travels as JSON values (``to_jsonb`` of the central row, or the same built from a local
row): uuids and timestamps as strings, enums as their values. Its *content* is every column
but the id and the two timestamps; two rows with the same content are the same edit, whoever
wrote them and whatever clock stamped them. Tables whose rows the web re-creates with new ids
(boxes, on every save) or that have one row per natural key are matched by that key, never by
id. The web's own Google tokens (``users.access_token``...) are never copied either way.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import Boolean, Double, Enum, Table, Uuid

from iamedic_desktop.models import Base
from iamedic_desktop.models.base import UTCDateTime

# Parents before children: rows are pushed in this order, deletions in the reverse one.
TABLE_ORDER: tuple[str, ...] = (
    "users",
    "user_roles",
    "doctor_profiles",
    "studies",
    "media",
    "frames",
    "picture_classification_predictions",
    "picture_classification_annotations",
    "picture_bb_predictions",
    "picture_bb_annotations",
)
IDENTITY_TABLES = frozenset(TABLE_ORDER[:3])  # flow to admins (and each user's own rows)
# The key a row is matched by across systems, where it is not the id.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "user_roles": ("user_id", "role"),
    "doctor_profiles": ("user_id",),
    "picture_classification_predictions": ("media_id", "model_version"),
    "picture_classification_annotations": ("media_id",),
    "picture_bb_predictions": ("media_id", "model_version", "bb_class"),
    "picture_bb_annotations": ("media_id", "bb_class"),
}
NEVER_COPIED: dict[str, frozenset[str]] = {
    "users": frozenset({"access_token", "refresh_token", "token_expires_at"}),
}
_NOT_CONTENT = frozenset({"id", "created_at", "updated_at"})
_AS_IS = frozenset({str, int, float, bool})  # JSON values already
# The column naming each row's parent (media of a still: its video).
PARENTS: dict[str, tuple[str, str]] = {
    "user_roles": ("users", "user_id"),
    "doctor_profiles": ("users", "user_id"),
    "studies": ("users", "doctor_id"),
    "media": ("studies", "study_id"),
    "frames": ("media", "video_media_id"),
    "picture_classification_predictions": ("media", "media_id"),
    "picture_classification_annotations": ("media", "media_id"),
    "picture_bb_predictions": ("media", "media_id"),
    "picture_bb_annotations": ("media", "media_id"),
}


def table(name: str) -> Table:
    """The SQLAlchemy table of a central table."""
    return Base.metadata.tables[name]


def columns(name: str) -> list[str]:
    """The columns the sync copies, in table order."""
    return list(_copied(name))


def content_columns(name: str) -> list[str]:
    """The columns whose values make a row's content."""
    return list(_content(name))


@functools.cache
def _copied(name: str) -> tuple[str, ...]:
    # Once per table: walking a Table's columns for each row was a tenth of a push's time.
    skip = NEVER_COPIED.get(name, frozenset())
    return tuple(c.name for c in table(name).columns if c.name not in skip)


@functools.cache
def _content(name: str) -> tuple[str, ...]:
    return tuple(c for c in _copied(name) if c not in _NOT_CONTENT)


def identity(name: str) -> tuple[str, ...]:
    """The columns a row is matched by across systems."""
    return NATURAL_KEYS.get(name, ("id",))


def _plain(value: Any) -> Any:
    if value is None or type(value) in _AS_IS:  # most values: no isinstance chain per value
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row_values(name: str, row: Any) -> dict[str, Any]:
    """JSON values of a local row (an ORM object or a mapping) in the sync's form."""
    get = row.__getitem__ if isinstance(row, dict) else lambda c: getattr(row, c)
    return {c: _plain(get(c)) for c in _copied(name)}


def from_central(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Only the copied columns of a central row (the web's tokens dropped), as JSON values;
    a double that JSON wrote as an integer (40) is a float again (40.0)."""
    doubles = _DOUBLES.get(name)
    if doubles is None:  # once per table: not for every row
        doubles = _DOUBLES[name] = frozenset(
            c.name for c in table(name).columns if isinstance(c.type, Double)
        )
    out = {c: _plain(data.get(c)) for c in _copied(name)}
    for column in doubles:
        if isinstance(out.get(column), int):
            out[column] = float(out[column])
    return out


_DOUBLES: dict[str, frozenset[str]] = {}


def typed(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Python values of JSON values, ready to bind to the table's columns."""
    out: dict[str, Any] = {}
    for column in table(name).columns:
        if column.name not in data:
            continue
        value = data[column.name]
        kind = column.type
        if value is None:
            out[column.name] = None
        elif isinstance(kind, Uuid):
            out[column.name] = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        elif isinstance(kind, UTCDateTime):
            out[column.name] = _timestamp(value)
        elif isinstance(kind, Enum) and kind.enum_class is not None:
            out[column.name] = kind.enum_class(value)
        elif isinstance(kind, Boolean):
            out[column.name] = bool(value)
        else:
            out[column.name] = value
    return out


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def content_hash(name: str, data: dict[str, Any] | None) -> str | None:
    """The SHA-256 of a row's content (None for no row)."""
    if data is None:
        return None
    content = {c: data.get(c) for c in _content(name)}
    for key, value in content.items():
        if isinstance(value, float) and value.is_integer():
            content[key] = int(value)  # 2.0 from one side is 2 from the other
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def key_of(name: str, data: dict[str, Any]) -> tuple[Any, ...]:
    """The row's identity values (strings), for matching across systems."""
    return tuple(str(data[c]) for c in identity(name))


def dump_row(data: dict[str, Any] | None) -> str | None:
    """A row's JSON text (stored in tombstones and conflicts)."""
    return None if data is None else json.dumps(data, sort_keys=True, default=str)


def load_row(text: str | None) -> dict[str, Any] | None:
    """The row of ``dump_row``."""
    return None if text is None else json.loads(text)


def central_json(name: str, alias: str = "t") -> str:
    """SQL for a central row as JSON, without the columns never copied (the web's tokens are
    not even read)."""
    if name not in NEVER_COPIED:
        return f"to_jsonb({alias})"
    pairs = ", ".join(f"'{c}', {alias}.{c}" for c in columns(name))
    return f"jsonb_build_object({pairs})"
