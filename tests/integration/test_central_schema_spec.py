"""spec/central_schema.md, transcribed by hand, against a database made by ``upgrade_central``.

The expectations below are written from the spec's text, not from the models or the migration,
so a name, type, default or index that differs from the web's schema shows up here by name.
Types are spelled as information_schema reports them; enum columns by their enum type's name.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from iamedic_desktop.core.migrate import upgrade_central
from tests.conftest import create_pg_database, drop_pg_database

pytestmark = pytest.mark.postgres

NN, NULL = False, True
VARCHAR, UUID, TEXT, BOOL = "character varying", "uuid", "text", "boolean"
TSTZ, BIGINT, DOUBLE, INT = "timestamp with time zone", "bigint", "double precision", "integer"
IMAGE_VIDEO_FRAME = ["image", "video", "frame"]

ENUMS = {
    "mediatype": IMAGE_VIDEO_FRAME,
    "uploadstatus": ["uploaded", "processing", "failed"],
    "annotation_media_type": IMAGE_VIDEO_FRAME,
    "bb_annotation_media_type": IMAGE_VIDEO_FRAME,
    "bb_prediction_media_type": IMAGE_VIDEO_FRAME,
    "prediction_media_type": IMAGE_VIDEO_FRAME,
}

# table -> column -> (type, nullable); every table also has id, created_at, updated_at.
COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "users": {
        "email": (VARCHAR, NN),
        "name": (VARCHAR, NN),
        "google_id": (VARCHAR, NN),
        "access_token": (TEXT, NULL),
        "refresh_token": (TEXT, NULL),
        "token_expires_at": (TSTZ, NULL),
        "is_active": (BOOL, NULL),
    },
    "user_roles": {"user_id": (UUID, NN), "role": (VARCHAR, NN)},
    "doctor_profiles": {
        "user_id": (UUID, NN),
        "matriculation_id": (VARCHAR, NN),
        "legal_name": (VARCHAR, NN),
        "specialization": (VARCHAR, NN),
        "status": (VARCHAR, NN),
        "notes": (TEXT, NULL),
    },
    "studies": {
        "doctor_id": (UUID, NN),
        "alias": ("character varying(255)", NN),
        "is_active": (BOOL, NN),
    },
    "media": {
        "study_id": (UUID, NN),
        "filename": ("character varying(500)", NN),
        "file_path": ("character varying(1000)", NN),
        "file_size": (BIGINT, NN),
        "mime_type": ("character varying(255)", NN),
        "media_type": ("mediatype", NN),
        "upload_status": ("uploadstatus", NN),
        "is_active": (BOOL, NN),
    },
    "frames": {
        "video_media_id": (UUID, NN),
        "frame_media_id": (UUID, NN),
        "timestamp_seconds": (DOUBLE, NN),
        "frame_number": (INT, NN),
        "width": (INT, NN),
        "height": (INT, NN),
        "is_active": (BOOL, NN),
    },
    "picture_classification_predictions": {
        "media_id": (UUID, NN),
        "media_type": ("prediction_media_type", NN),
        "prediction": (DOUBLE, NN),
        "model_version": ("character varying(255)", NN),
    },
    "picture_classification_annotations": {
        "media_id": (UUID, NN),
        "media_type": ("annotation_media_type", NN),
        "usefulness": (INT, NN),
    },
    "picture_bb_predictions": {
        "media_id": (UUID, NN),
        "media_type": ("bb_prediction_media_type", NN),
        "bb_class": ("character varying(100)", NN),
        "confidence": (DOUBLE, NN),
        "x_min": (DOUBLE, NN),
        "y_min": (DOUBLE, NN),
        "width": (DOUBLE, NN),
        "height": (DOUBLE, NN),
        "model_version": ("character varying(255)", NN),
    },
    "picture_bb_annotations": {
        "media_id": (UUID, NN),
        "media_type": ("bb_annotation_media_type", NN),
        "bb_class": ("character varying(100)", NN),
        "usefulness": (INT, NN),
        "x_min": (DOUBLE, NN),
        "y_min": (DOUBLE, NN),
        "width": (DOUBLE, NN),
        "height": (DOUBLE, NN),
        "is_hidden": (BOOL, NN),
    },
}
TABLES = sorted(COLUMNS)

# table -> {column: referenced table}; every FK is <table>_<column>_fkey ON DELETE CASCADE -> id.
FOREIGN_KEYS = {
    "user_roles": {"user_id": "users"},
    "doctor_profiles": {"user_id": "users"},
    "studies": {"doctor_id": "users"},
    "media": {"study_id": "studies"},
    "frames": {"video_media_id": "media", "frame_media_id": "media"},
    "picture_classification_predictions": {"media_id": "media"},
    "picture_classification_annotations": {"media_id": "media"},
    "picture_bb_predictions": {"media_id": "media"},
    "picture_bb_annotations": {"media_id": "media"},
}
UNIQUE_CONSTRAINTS = {
    "user_roles": {"unique_user_role": ("user_id", "role")},
    "doctor_profiles": {
        "unique_doctor_profile": ("user_id",),
        "unique_matriculation_id": ("matriculation_id",),
    },
    "studies": {"unique_doctor_study_alias": ("doctor_id", "alias")},
    "picture_classification_predictions": {
        "unique_media_model_classification": ("media_id", "model_version")
    },
    "picture_bb_predictions": {
        "unique_media_model_bb_class": ("media_id", "model_version", "bb_class")
    },
    "picture_bb_annotations": {"unique_media_bb_class_annotation": ("media_id", "bb_class")},
}
# name -> (column, allowed values as PostgreSQL prints them in the constraint)
CHECKS = {
    "media": {
        "valid_media_type": ("media_type", IMAGE_VIDEO_FRAME),
        "valid_upload_status": ("upload_status", ["uploaded", "processing", "failed"]),
    },
    "picture_classification_annotations": {"valid_usefulness": ("usefulness", ["0", "1"])},
    "picture_bb_annotations": {"valid_bb_usefulness": ("usefulness", ["0", "1"])},
}
# Indexes of their own (not those behind a PK or unique constraint), besides ix_<table>_id.
UNIQUE, PLAIN = True, False
INDEXES: dict[str, dict[str, tuple[tuple[str, ...], bool]]] = {
    "users": {
        "ix_users_email": (("email",), UNIQUE),
        "ix_users_google_id": (("google_id",), UNIQUE),
    },
    "user_roles": {
        "ix_user_roles_role": (("role",), PLAIN),
        "ix_user_roles_user_id": (("user_id",), PLAIN),
    },
    "doctor_profiles": {
        "ix_doctor_profiles_matriculation_id": (("matriculation_id",), UNIQUE),
        "ix_doctor_profiles_status": (("status",), PLAIN),
        "ix_doctor_profiles_user_id": (("user_id",), PLAIN),
    },
    "studies": {
        "ix_studies_created_at": (("created_at",), PLAIN),
        "ix_studies_doctor_id": (("doctor_id",), PLAIN),
        "ix_studies_is_active": (("is_active",), PLAIN),
    },
    "media": {
        f"ix_media_{c}": ((c,), PLAIN)
        for c in ("created_at", "is_active", "media_type", "mime_type", "study_id", "upload_status")
    },
    "frames": {
        "ix_frames_frame_media_id": (("frame_media_id",), UNIQUE),
        "ix_frames_created_at": (("created_at",), PLAIN),
        "ix_frames_frame_number": (("frame_number",), PLAIN),
        "ix_frames_is_active": (("is_active",), PLAIN),
        "ix_frames_timestamp_seconds": (("timestamp_seconds",), PLAIN),
        "ix_frames_video_media_id": (("video_media_id",), PLAIN),
        "ix_frames_video_frame_num": (("video_media_id", "frame_number"), PLAIN),
        "ix_frames_video_timestamp": (("video_media_id", "timestamp_seconds"), PLAIN),
    },
    "picture_classification_predictions": {
        f"ix_picture_classification_predictions_{c}": ((c,), PLAIN)
        for c in ("created_at", "media_id", "media_type", "model_version")
    },
    "picture_classification_annotations": {
        "ix_picture_classification_annotations_media_id": (("media_id",), UNIQUE),
        "ix_picture_classification_annotations_created_at": (("created_at",), PLAIN),
        "ix_picture_classification_annotations_media_type": (("media_type",), PLAIN),
    },
    "picture_bb_predictions": {
        f"ix_picture_bb_predictions_{c}": ((c,), PLAIN)
        for c in ("bb_class", "created_at", "media_id", "media_type", "model_version")
    },
    "picture_bb_annotations": {
        f"ix_picture_bb_annotations_{c}": ((c,), PLAIN)
        for c in ("bb_class", "created_at", "media_id", "media_type")
    },
}
WEB_REVISION = "92a0e66dec74"

_ON_DELETE = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_CHECK = re.compile(r"^CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$")


def _expected_columns(
    table: str, columns: dict[str, dict[str, tuple[str, bool]]] = COLUMNS
) -> dict[str, Any]:
    """(type, nullable, default) per column: the table's own plus the three every table has."""
    own = {name: (kind, null, None) for name, (kind, null) in columns[table].items()}
    return {
        "id": (UUID, NN, None),
        **own,
        "created_at": (TSTZ, NN, "now()"),
        "updated_at": (TSTZ, NN, "now()"),
    }


def _expected_constraints(table: str) -> dict[str, Any]:
    expected: dict[str, Any] = {f"{table}_pkey": ("primary key", ("id",))}
    for column, target in FOREIGN_KEYS.get(table, {}).items():
        expected[f"{table}_{column}_fkey"] = ("foreign key", (column,), target, ("id",), "cascade")
    for name, columns in UNIQUE_CONSTRAINTS.get(table, {}).items():
        expected[name] = ("unique", columns)
    for name, (column, values) in CHECKS.get(table, {}).items():
        expected[name] = ("check", (column,), tuple(values))
    return expected


def _expected_indexes(
    table: str, indexes: dict[str, dict[str, tuple[tuple[str, ...], bool]]] = INDEXES
) -> dict[str, Any]:
    return {f"ix_{table}_id": (("id",), PLAIN), **indexes.get(table, {})}


def _diff(kind: str, table: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One line per name that is missing, extra, or different."""
    lines = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            lines.append(f"{kind} {table}.{name}: missing (spec: {expected[name]})")
        elif name not in expected:
            lines.append(f"{kind} {table}.{name}: not in the spec (found: {actual[name]})")
        elif expected[name] != actual[name]:
            lines.append(f"{kind} {table}.{name}: spec {expected[name]}, found {actual[name]}")
    return lines


_COLUMNS_SQL = """
    SELECT column_name, data_type, udt_name, character_maximum_length, is_nullable,
           column_default
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t"""
_CONSTRAINTS_SQL = """
    SELECT c.conname, c.contype,
           ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
           CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text END,
           ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
           c.confdeltype, pg_get_constraintdef(c.oid)
    FROM pg_constraint c WHERE c.conrelid = ('public.' || :t)::regclass"""
_INDEXES_SQL = """
    SELECT i.relname, x.indisunique,
           ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.i)
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = ('public.' || :t)::regclass
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid
                      AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))"""


def _column_type(data_type: str, udt_name: str, length: int | None) -> str:
    if data_type == "USER-DEFINED":
        return udt_name
    return f"{data_type}({length})" if length is not None else data_type


def _constraint(
    kind: str, cols: list[str], ref: str | None, refcols: list[str], on_delete: str, definition: str
) -> tuple[Any, ...]:
    if kind == "p":
        return ("primary key", tuple(cols))
    if kind == "u":
        return ("unique", tuple(cols))
    if kind == "f":
        return ("foreign key", tuple(cols), ref, tuple(refcols), _ON_DELETE[on_delete])
    match = _CHECK.match(definition)
    if kind == "c" and match:
        values = [re.sub(r"::\w+$", "", v.strip()).strip("'") for v in match.group(2).split(",")]
        return ("check", (match.group(1),), tuple(values))
    return (kind, definition)


def _read_table(conn: Any, table: str) -> dict[str, dict[str, Any]]:
    columns = {
        name: (_column_type(kind, udt, length), nullable == "YES", default)
        for name, kind, udt, length, nullable, default in conn.execute(
            text(_COLUMNS_SQL), {"t": table}
        )
    }
    constraints = {
        row[0]: _constraint(*row[1:]) for row in conn.execute(text(_CONSTRAINTS_SQL), {"t": table})
    }
    indexes = {
        name: (tuple(cols), unique)
        for name, unique, cols in conn.execute(text(_INDEXES_SQL), {"t": table})
    }
    return {"columns": columns, "constraints": constraints, "indexes": indexes}


@pytest.fixture(scope="module")
def catalog(pg_server: str) -> Iterator[dict[str, Any]]:
    """The catalog of one database migrated by ``upgrade_central`` (read once per module)."""
    url = create_pg_database(pg_server)
    engine = create_engine(url)
    try:
        upgrade_central(engine)
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            found: dict[str, Any] = {t: _read_table(conn, t) for t in tables}
            enums: dict[str, list[str]] = {}
            for name, label in conn.execute(
                text(
                    "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t "
                    "ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder"
                )
            ):
                enums.setdefault(name, []).append(label)
            web_version = conn.execute(text("SELECT version_num FROM public.alembic_version"))
            found["_enums"] = enums
            found["_web_version"] = web_version.scalars().all()
        yield found
    finally:
        engine.dispose()
        drop_pg_database(url)


def test_public_holds_the_ten_tables_and_the_web_version_table(catalog: dict[str, Any]) -> None:
    tables = {name for name in catalog if not name.startswith("_")}
    assert tables == {*TABLES, "alembic_version"}


def test_enum_types_and_their_labels_in_order(catalog: dict[str, Any]) -> None:
    assert catalog["_enums"] == ENUMS


@pytest.mark.parametrize("table", TABLES)
def test_columns(catalog: dict[str, Any], table: str) -> None:
    assert _diff("column", table, _expected_columns(table), catalog[table]["columns"]) == []


@pytest.mark.parametrize("table", TABLES)
def test_constraints(catalog: dict[str, Any], table: str) -> None:
    actual = catalog[table]["constraints"]
    assert _diff("constraint", table, _expected_constraints(table), actual) == []


@pytest.mark.parametrize("table", TABLES)
def test_indexes(catalog: dict[str, Any], table: str) -> None:
    assert _diff("index", table, _expected_indexes(table), catalog[table]["indexes"]) == []


def test_web_version_table_is_stamped(catalog: dict[str, Any]) -> None:
    version = catalog["alembic_version"]

    assert catalog["_web_version"] == [WEB_REVISION]
    assert version["columns"] == {"version_num": ("character varying(32)", NN, None)}
    assert version["constraints"] == {"alembic_version_pkc": ("primary key", ("version_num",))}
    assert version["indexes"] == {}


def test_a_difference_is_reported_by_name(catalog: dict[str, Any]) -> None:
    columns = copy.deepcopy(COLUMNS)
    columns["media"]["filename"] = ("character varying(499)", NN)
    indexes = copy.deepcopy(INDEXES)
    del indexes["media"]["ix_media_mime_type"]
    indexes["media"]["ix_media_file_path"] = (("file_path",), PLAIN)
    media = catalog["media"]

    column_diff = _diff("column", "media", _expected_columns("media", columns), media["columns"])
    index_diff = _diff("index", "media", _expected_indexes("media", indexes), media["indexes"])

    assert column_diff == [
        "column media.filename: spec ('character varying(499)', False, None), "
        "found ('character varying(500)', False, None)"
    ]
    assert index_diff == [
        "index media.ix_media_file_path: missing (spec: (('file_path',), False))",
        "index media.ix_media_mime_type: not in the spec (found: (('mime_type',), False))",
    ]
