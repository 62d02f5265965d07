"""The change feed, row versions, central file storage and devices, in the workstation schema.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10

Change feed. One row-level AFTER trigger per web table (``workstation_change_feed``) calls
``workstation.record_change()``, which appends one ``change_feed`` entry per inserted, updated
or deleted row, from any writer (the web backend's own writes and cascaded deletes included):
the writing transaction's id (``txid``, a ``xid8``: pull compares it with snapshots, never a
clock), the op (I/U/D), the row as JSON (the new row, or the old one for a delete: pull applies
it as it is), and the owning doctor, study and media resolved in the trigger, so row-level
security per doctor can later be put on the feed. A row-level trigger was chosen over a
statement-level one with transition tables because it is simpler and its cost is acceptable:
one statement inserting 10,000 media rows took 0.27-0.29 s without and 0.84-1.02 s with the
trigger (PostgreSQL 15, 2 busy cores, three runs each): about 65 microseconds per row for the
parent lookup, the version upsert and the feed entry. The web writes a few rows per request.

Versions. ``row_versions`` holds one counter per (table, row id), bumped by the trigger under
the row lock the writer already holds, so two writers of one row get consecutive versions and
no clock is involved. It also remembers each row's doctor, study and media: in a cascaded
delete the parent is already gone when the child's trigger runs, and the child's owner is then
read from there. Rows present when the revision is installed get version 1 (and their owners);
entries of deleted rows are kept, so a re-inserted id goes on counting and a deleted row still
has an owner. The function is SECURITY DEFINER with a fixed search_path: a writer without
rights on this schema (the web's login) still fills the feed.

Files. ``deployment`` (one row) records the file storage every workstation must use:
``directory`` (the web's media folder, mounted wherever each workstation likes, so no path is
stored) or ``database`` (``file_chunks``). Core.migrate records it after the upgrade and
refuses a later change. ``files`` lists the files put by key, with size and SHA-256.

Devices: each workstation's registration, last contact and pull cursor.

TRUNCATE is not recorded: the web never truncates its tables. Downgrade drops the triggers,
the function and the tables; the web's tables are left exactly as they were.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

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
TRIGGER = "workstation_change_feed"

_TABLES = """
CREATE TABLE workstation.row_versions (
    table_name text NOT NULL,
    row_id uuid NOT NULL,
    version bigint NOT NULL,
    doctor_id uuid,
    study_id uuid,
    media_id uuid,
    PRIMARY KEY (table_name, row_id)
);
CREATE TABLE workstation.change_feed (
    id bigserial PRIMARY KEY,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    table_name text NOT NULL,
    row_id uuid NOT NULL,
    op char(1) NOT NULL CHECK (op IN ('I', 'U', 'D')),
    version bigint NOT NULL,
    doctor_id uuid,
    study_id uuid,
    media_id uuid,
    row_data jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ix_change_feed_txid ON workstation.change_feed (txid);
CREATE INDEX ix_change_feed_doctor_txid ON workstation.change_feed (doctor_id, txid);
CREATE TABLE workstation.deployment (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    file_storage text NOT NULL CHECK (file_storage IN ('directory', 'database')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE workstation.files (
    file_path text PRIMARY KEY,
    size bigint NOT NULL CHECK (size >= 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE workstation.file_chunks (
    file_path text NOT NULL REFERENCES workstation.files (file_path) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (file_path, seq)
);
CREATE TABLE workstation.devices (
    device_id uuid PRIMARY KEY,
    user_id uuid,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    cursor text
);
"""

# The owners of a row: its own columns, then its parents, then (for a parent deleted earlier
# in the same cascade) what row_versions remembered of that parent.
_FUNCTION = """
CREATE FUNCTION workstation.record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    data jsonb;
    rid uuid;
    v_doctor uuid;
    v_study uuid;
    v_media uuid;
    v_version bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN data := to_jsonb(OLD); ELSE data := to_jsonb(NEW); END IF;
    rid := (data ->> 'id')::uuid;
    CASE TG_TABLE_NAME
        WHEN 'users' THEN v_doctor := rid;
        WHEN 'user_roles', 'doctor_profiles' THEN v_doctor := (data ->> 'user_id')::uuid;
        WHEN 'studies' THEN v_doctor := (data ->> 'doctor_id')::uuid; v_study := rid;
        WHEN 'media' THEN v_media := rid; v_study := (data ->> 'study_id')::uuid;
        WHEN 'frames' THEN v_media := (data ->> 'video_media_id')::uuid;
        ELSE v_media := (data ->> 'media_id')::uuid;
    END CASE;
    IF v_media IS NOT NULL AND v_study IS NULL THEN
        SELECT m.study_id INTO v_study FROM public.media m WHERE m.id = v_media;
        IF NOT FOUND THEN
            SELECT r.study_id, r.doctor_id INTO v_study, v_doctor FROM workstation.row_versions r
            WHERE r.table_name = 'media' AND r.row_id = v_media;
        END IF;
    END IF;
    IF v_study IS NOT NULL AND v_doctor IS NULL THEN
        SELECT s.doctor_id INTO v_doctor FROM public.studies s WHERE s.id = v_study;
        IF NOT FOUND THEN
            SELECT r.doctor_id INTO v_doctor FROM workstation.row_versions r
            WHERE r.table_name = 'studies' AND r.row_id = v_study;
        END IF;
    END IF;
    INSERT INTO workstation.row_versions AS r
        (table_name, row_id, version, doctor_id, study_id, media_id)
    VALUES (TG_TABLE_NAME, rid, 1, v_doctor, v_study, v_media)
    ON CONFLICT (table_name, row_id) DO UPDATE
        SET version = r.version + 1, doctor_id = EXCLUDED.doctor_id,
            study_id = EXCLUDED.study_id, media_id = EXCLUDED.media_id
    RETURNING r.version INTO v_version;
    INSERT INTO workstation.change_feed
        (table_name, row_id, op, version, doctor_id, study_id, media_id, row_data)
    VALUES (TG_TABLE_NAME, rid, left(TG_OP, 1), v_version, v_doctor, v_study, v_media, data);
    RETURN NULL;
END
$fn$;
"""

# Version 1 and the owners of every row already there (a web database with data).
_BACKFILL = (
    "INSERT INTO workstation.row_versions SELECT 'users', id, 1, id, NULL, NULL FROM public.users",
    "INSERT INTO workstation.row_versions SELECT 'user_roles', id, 1, user_id, NULL, NULL "
    "FROM public.user_roles",
    "INSERT INTO workstation.row_versions SELECT 'doctor_profiles', id, 1, user_id, NULL, NULL "
    "FROM public.doctor_profiles",
    "INSERT INTO workstation.row_versions SELECT 'studies', id, 1, doctor_id, id, NULL "
    "FROM public.studies",
    "INSERT INTO workstation.row_versions SELECT 'media', m.id, 1, s.doctor_id, s.id, m.id "
    "FROM public.media m JOIN public.studies s ON s.id = m.study_id",
    "INSERT INTO workstation.row_versions SELECT 'frames', f.id, 1, s.doctor_id, s.id, m.id "
    "FROM public.frames f JOIN public.media m ON m.id = f.video_media_id "
    "JOIN public.studies s ON s.id = m.study_id",
    *(
        f"INSERT INTO workstation.row_versions SELECT '{t}', x.id, 1, s.doctor_id, s.id, m.id "
        f"FROM public.{t} x JOIN public.media m ON m.id = x.media_id "
        "JOIN public.studies s ON s.id = m.study_id"
        for t in WEB_TABLES[6:]
    ),
)


def upgrade() -> None:
    """Create the feed, versions, file storage and devices; put the trigger on each web table."""
    op.execute(_TABLES)
    op.execute(_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION workstation.record_change() FROM PUBLIC")
    for statement in _BACKFILL:
        op.execute(statement)
    for table in WEB_TABLES:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON public.{table} "
            "FOR EACH ROW EXECUTE FUNCTION workstation.record_change()"
        )


def downgrade() -> None:
    """Drop the triggers, the function and the tables; the web's tables stay as they were."""
    for table in WEB_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON public.{table}")
    op.execute("DROP FUNCTION workstation.record_change()")
    op.execute(
        "DROP TABLE workstation.devices, workstation.file_chunks, workstation.files, "
        "workstation.deployment, workstation.change_feed, workstation.row_versions"
    )
