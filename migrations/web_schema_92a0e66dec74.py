"""The web backend's ten central tables as they stand at its Alembic revision 92a0e66dec74.

Shared by both migration targets, so the embedded store and a central database created by the
workstation hold the very same tables (spec/central_schema.md). Frozen: never edit it; a change
of the web's schema is a new module used by new revisions. (One correction made: the two indexes
of picture_classification_annotations on created_at and media_type, which the web's migration
creates and this copy had missed; central revision 0002 adds them where they are missing.)
Written out by hand, never from the models, so a model that drifts shows up in the autogenerate
comparison instead.

Dialect-neutral on purpose: on PostgreSQL each ``sa.Enum`` becomes its own enum type (created
with its table; no type is shared between columns), on SQLite a VARCHAR without a CHECK, as the
models' ``lower_enum`` renders it. PK and FK names are PostgreSQL's default names, given
explicitly so both databases carry them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

WEB_REVISION = "92a0e66dec74"
# Parents first; dropped in the reverse order.
WEB_TABLES = (
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
_MEDIA_TYPES = ("image", "video", "frame")
_UPLOAD_STATUSES = ("uploaded", "processing", "failed")


def _enum(name: str, labels: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*labels, name=name, create_constraint=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"{table}_{column}_fkey", ondelete="CASCADE"
    )


def _table(name: str, columns: list[sa.Column], constraints: list[sa.Constraint]) -> None:
    """A central table: id, its columns, created_at, updated_at, then its constraints."""
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        *columns,
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=f"{name}_pkey"),
        *constraints,
    )
    op.create_index(f"ix_{name}_id", name, ["id"])


def _indexes(table: str, *columns: str, unique: tuple[str, ...] = ()) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])
    for column in unique:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=True)


def _box() -> list[sa.Column]:
    """A box in pixels of the stored image, top-left origin."""
    return [
        sa.Column(name, sa.Double(), nullable=False)
        for name in ("x_min", "y_min", "width", "height")
    ]


def create_web_tables() -> None:
    """Create the ten tables, their constraints, indexes and (on PostgreSQL) enum types."""
    _table(
        "users",
        [
            sa.Column("email", sa.String(), nullable=False),
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("google_id", sa.String(), nullable=False),
            sa.Column("access_token", sa.Text(), nullable=True),
            sa.Column("refresh_token", sa.Text(), nullable=True),
            sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("is_active", sa.Boolean(), nullable=True),
        ],
        [],
    )
    _indexes("users", unique=("email", "google_id"))

    _table(
        "user_roles",
        [
            sa.Column("user_id", sa.Uuid(), nullable=False),
            sa.Column("role", sa.String(), nullable=False),
        ],
        [
            sa.UniqueConstraint("user_id", "role", name="unique_user_role"),
            _fk("user_roles", "user_id", "users"),
        ],
    )
    _indexes("user_roles", "role", "user_id")

    _table(
        "doctor_profiles",
        [
            sa.Column("user_id", sa.Uuid(), nullable=False),
            sa.Column("matriculation_id", sa.String(), nullable=False),
            sa.Column("legal_name", sa.String(), nullable=False),
            sa.Column("specialization", sa.String(), nullable=False),
            sa.Column("status", sa.String(), nullable=False),
            sa.Column("notes", sa.Text(), nullable=True),
        ],
        [
            sa.UniqueConstraint("user_id", name="unique_doctor_profile"),
            sa.UniqueConstraint("matriculation_id", name="unique_matriculation_id"),
            _fk("doctor_profiles", "user_id", "users"),
        ],
    )
    _indexes("doctor_profiles", "status", "user_id", unique=("matriculation_id",))

    _table(
        "studies",
        [
            sa.Column("doctor_id", sa.Uuid(), nullable=False),
            sa.Column("alias", sa.String(length=255), nullable=False),
            sa.Column("is_active", sa.Boolean(), nullable=False),
        ],
        [
            sa.UniqueConstraint("doctor_id", "alias", name="unique_doctor_study_alias"),
            _fk("studies", "doctor_id", "users"),
        ],
    )
    _indexes("studies", "created_at", "doctor_id", "is_active")

    _table(
        "media",
        [
            sa.Column("study_id", sa.Uuid(), nullable=False),
            sa.Column("filename", sa.String(length=500), nullable=False),
            sa.Column("file_path", sa.String(length=1000), nullable=False),
            sa.Column("file_size", sa.BigInteger(), nullable=False),
            sa.Column("mime_type", sa.String(length=255), nullable=False),
            sa.Column("media_type", _enum("mediatype", _MEDIA_TYPES), nullable=False),
            sa.Column("upload_status", _enum("uploadstatus", _UPLOAD_STATUSES), nullable=False),
            sa.Column("is_active", sa.Boolean(), nullable=False),
        ],
        [
            sa.CheckConstraint(
                "media_type IN ('image', 'video', 'frame')", name="valid_media_type"
            ),
            sa.CheckConstraint(
                "upload_status IN ('uploaded', 'processing', 'failed')",
                name="valid_upload_status",
            ),
            _fk("media", "study_id", "studies"),
        ],
    )
    _indexes(
        "media", "created_at", "is_active", "media_type", "mime_type", "study_id", "upload_status"
    )

    _table(
        "frames",
        [
            sa.Column("video_media_id", sa.Uuid(), nullable=False),
            sa.Column("frame_media_id", sa.Uuid(), nullable=False),
            sa.Column("timestamp_seconds", sa.Double(), nullable=False),
            sa.Column("frame_number", sa.Integer(), nullable=False),
            sa.Column("width", sa.Integer(), nullable=False),
            sa.Column("height", sa.Integer(), nullable=False),
            sa.Column("is_active", sa.Boolean(), nullable=False),
        ],
        [_fk("frames", "video_media_id", "media"), _fk("frames", "frame_media_id", "media")],
    )
    _indexes(
        "frames",
        "created_at",
        "frame_number",
        "is_active",
        "timestamp_seconds",
        "video_media_id",
        unique=("frame_media_id",),
    )
    op.create_index("ix_frames_video_frame_num", "frames", ["video_media_id", "frame_number"])
    op.create_index("ix_frames_video_timestamp", "frames", ["video_media_id", "timestamp_seconds"])

    _table(
        "picture_classification_predictions",
        [
            sa.Column("media_id", sa.Uuid(), nullable=False),
            sa.Column("media_type", _enum("prediction_media_type", _MEDIA_TYPES), nullable=False),
            sa.Column("prediction", sa.Double(), nullable=False),
            sa.Column("model_version", sa.String(length=255), nullable=False),
        ],
        [
            sa.UniqueConstraint(
                "media_id", "model_version", name="unique_media_model_classification"
            ),
            _fk("picture_classification_predictions", "media_id", "media"),
        ],
    )
    _indexes(
        "picture_classification_predictions",
        "created_at",
        "media_id",
        "media_type",
        "model_version",
    )

    _table(
        "picture_classification_annotations",
        [
            sa.Column("media_id", sa.Uuid(), nullable=False),
            sa.Column("media_type", _enum("annotation_media_type", _MEDIA_TYPES), nullable=False),
            sa.Column("usefulness", sa.Integer(), nullable=False),
        ],
        [
            sa.CheckConstraint("usefulness IN (0, 1)", name="valid_usefulness"),
            _fk("picture_classification_annotations", "media_id", "media"),
        ],
    )
    _indexes("picture_classification_annotations", "created_at", "media_type", unique=("media_id",))

    _table(
        "picture_bb_predictions",
        [
            sa.Column("media_id", sa.Uuid(), nullable=False),
            sa.Column(
                "media_type", _enum("bb_prediction_media_type", _MEDIA_TYPES), nullable=False
            ),
            sa.Column("bb_class", sa.String(length=100), nullable=False),
            sa.Column("confidence", sa.Double(), nullable=False),
            *_box(),
            sa.Column("model_version", sa.String(length=255), nullable=False),
        ],
        [
            sa.UniqueConstraint(
                "media_id", "model_version", "bb_class", name="unique_media_model_bb_class"
            ),
            _fk("picture_bb_predictions", "media_id", "media"),
        ],
    )
    _indexes(
        "picture_bb_predictions",
        "bb_class",
        "created_at",
        "media_id",
        "media_type",
        "model_version",
    )

    _table(
        "picture_bb_annotations",
        [
            sa.Column("media_id", sa.Uuid(), nullable=False),
            sa.Column(
                "media_type", _enum("bb_annotation_media_type", _MEDIA_TYPES), nullable=False
            ),
            sa.Column("bb_class", sa.String(length=100), nullable=False),
            sa.Column("usefulness", sa.Integer(), nullable=False),
            *_box(),
            sa.Column("is_hidden", sa.Boolean(), nullable=False),
        ],
        [
            sa.UniqueConstraint("media_id", "bb_class", name="unique_media_bb_class_annotation"),
            sa.CheckConstraint("usefulness IN (0, 1)", name="valid_bb_usefulness"),
            _fk("picture_bb_annotations", "media_id", "media"),
        ],
    )
    _indexes("picture_bb_annotations", "bb_class", "created_at", "media_id", "media_type")


def drop_web_tables() -> None:
    """Drop the ten tables, children first."""
    for table in reversed(WEB_TABLES):
        op.drop_table(table)
