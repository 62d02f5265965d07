"""The audit log: every change to the web's tables, by any writer, hash-chained and append-only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-22

What is recorded. ``workstation.record_change()``, the feed trigger of every web table (0003,
0004), also queues one audit entry per inserted, updated or deleted row, from any writer (the
web backend, a workstation, psql, cascaded deletes): the server's ``clock_timestamp()``, the
login (``session_user``), the role the writer acted as (the one it ``SET ROLE`` to, else its
login: in a SECURITY DEFINER function ``current_user`` is the owner, so the ``role`` setting is
read instead), the ``application_name``, the user and device a workstation states on its
connection (``SET iamedic.user_id`` / ``iamedic.device_id``; uuids, NULL when unset or not a
uuid; a statement, not a proof, until each user has a login of their own), the transaction id,
the table, row id, op and row version, the owning doctor, study and media the feed has just
resolved, and the values: the new row for an insert, the old row for a delete, only the
changed columns (old and new) for an update. The web's Google tokens (``users.access_token``,
``refresh_token``, ``token_expires_at``) are written as ``"[redacted]"`` whenever not null.

The chain. Entries are numbered 1, 2, 3... without gaps in the order their transactions
commit, and ``entry_hash = sha256(prev_hash || canonical text)`` (hex; ``prev_hash`` of entry
1 is 64 zeros), where the canonical text is ``jsonb_build_array(id, changed_at as
YYYY-MM-DDTHH:MI:SS.USZ in UTC, login, db_role, application, user_id, device_id, txid as text,
table_name, row_id, op, version, doctor_id, study_id, media_id, old_values,
new_values)::text``. ``audit_chain_head`` (one row) holds the last id and hash. An entry
edited, deleted or inserted by the database owner no longer matches its hash, its successor's
``prev_hash``, the numbering or the head (``iamedic central audit verify``). An owner who
rewrites every entry after an edit, and the head, is caught only against a copy of an earlier
head kept elsewhere (``verify --anchor``).

Why at commit. The trigger only queues the entry in ``audit_pending``; the transaction's first
entry also puts its transaction id in ``audit_open_tx`` (found by primary key, so no plan can
turn the check into a scan of the queue) and queues a deferred constraint trigger. At COMMIT
it locks the head row (``FOR UPDATE``), numbers and hashes the transaction's entries in order,
moves them to ``audit_log`` and updates the head. Taking the lock in the row trigger instead
would serialise every writing transaction from its first change to its commit (a sync batch
would stall the web for all its round trips), and would deadlock a transaction holding the
lock and waiting for a row another one had changed before asking for it. At commit a
transaction holds every row lock it will ever need, so appends queue only for the chaining
itself. Both queue tables are UNLOGGED: their rows never outlive their transaction. A writer
in REPEATABLE READ or SERIALIZABLE whose commit follows another audited commit made after its
snapshot gets a serialisation failure (SQLSTATE 40001) and retries, as those levels require;
the web and the workstation write in READ COMMITTED. ``SET CONSTRAINTS ALL IMMEDIATE`` makes
a transaction chain (and hold the head) from that statement on.

Append-only. Nobody but the owner has any privilege on the four tables (REVOKE ALL FROM
PUBLIC), and a trigger refuses UPDATE, DELETE and TRUNCATE of ``audit_log`` to any role that
is not a member of its owner, whatever may be granted later. The functions are SECURITY
DEFINER with a fixed search_path, so the web's login, which has no rights here, still writes
its entries.

Cost, measured as 0003 and 0004 were (commit included; PostgreSQL 15, 2 cores shared with
other work, load average about 4; five runs each, alternating the 0004 body and this one on one
database; medians): one statement inserting 10,000 media rows, 0.88 s without the audit and
1.41 s with it (about 53 microseconds per row, chaining at commit included: the commit alone
takes 0.3-0.6 s, while the head is held); one statement updating one column of 10,000 rows,
0.81 s and 1.90 s (about 110 microseconds per row: the changed columns are found by comparing
the old and new rows); a one-row transaction (the web's way, 8 x 300 alternating), 2.8 ms and
3.7 ms. An entry takes about 760 bytes on disk with its indexes (media inserts; an update of one
column is smaller); ``verify`` reads about 40,000 entries a second in constant memory.

The function keeps its name, signature, owner, SECURITY DEFINER and grants, and the triggers
of 0003 keep calling it. Downgrade restores the 0004 body (imported, as 0004 imports 0003's)
and drops the log's tables and functions: the log is lost with them.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from alembic.util import load_python_file

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

_previous = load_python_file(Path(__file__).resolve().parent, "0004_change_notifications.py")

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
CREATE UNLOGGED TABLE workstation.audit_open_tx (txid xid8 PRIMARY KEY);
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

# Added to record_change()'s declarations and, before its notification, its audit entry. The
# owners and version are the ones it has just resolved; ``audit_open_tx`` says (through its
# primary key, whatever the plan) whether this is the transaction's first entry, which queues
# the chaining at commit.
_DECLARE = "DECLARE\n"
_AUDIT_DECLARE = """    a_old jsonb;
    a_new jsonb;
    a_key text;
    a_first boolean;
    a_user text := current_setting('iamedic.user_id', true);
    a_device text := current_setting('iamedic.device_id', true);
    a_role text := current_setting('role');
"""
_AUDIT = f"""    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, o.value), '{{}}'),
               coalesce(jsonb_object_agg(n.key, n.value), '{{}}')
        INTO a_old, a_new
        FROM jsonb_each(data) n JOIN jsonb_each(to_jsonb(OLD)) o ON o.key = n.key
        WHERE n.value IS DISTINCT FROM o.value;
    ELSIF TG_OP = 'INSERT' THEN
        a_new := data;
    ELSE
        a_old := data;
    END IF;
    IF TG_TABLE_NAME = 'users' THEN
        FOREACH a_key IN ARRAY ARRAY['access_token', 'refresh_token', 'token_expires_at'] LOOP
            IF a_old ? a_key AND a_old -> a_key <> 'null' THEN
                a_old := jsonb_set(a_old, ARRAY[a_key], '"[redacted]"');
            END IF;
            IF a_new ? a_key AND a_new -> a_key <> 'null' THEN
                a_new := jsonb_set(a_new, ARRAY[a_key], '"[redacted]"');
            END IF;
        END LOOP;
    END IF;
    INSERT INTO workstation.audit_open_tx VALUES (pg_current_xact_id())
    ON CONFLICT DO NOTHING RETURNING true INTO a_first;
    INSERT INTO workstation.audit_pending
        (opens_tx, db_role, application, user_id, device_id, table_name, row_id, op, version,
         doctor_id, study_id, media_id, old_values, new_values)
    VALUES (
        a_first IS NOT NULL,
        CASE WHEN a_role IS NULL OR a_role = 'none' THEN session_user ELSE a_role END,
        nullif(current_setting('application_name', true), ''),
        CASE WHEN a_user ~ {_UUID} THEN a_user::uuid END,
        CASE WHEN a_device ~ {_UUID} THEN a_device::uuid END,
        TG_TABLE_NAME, rid, left(TG_OP, 1), v_version, v_doctor, v_study, v_media,
        a_old, a_new);
"""


def _feed_function() -> str:
    """Revision 0004's record_change(), as a CREATE OR REPLACE."""
    feed = _previous._previous._FUNCTION
    return _previous._replace_function(feed).replace(
        _previous._END, _previous._NOTIFY + _previous._END
    )


def _audited_function() -> str:
    """record_change() with the audit entry written before the notification."""
    body = _feed_function()
    if body.count(_DECLARE) != 1 or body.count(_previous._NOTIFY) != 1:
        raise RuntimeError("Revision 0004's record_change() is not the text revision 0005 knows.")
    body = body.replace(_DECLARE, _DECLARE + _AUDIT_DECLARE, 1)
    return body.replace(_previous._NOTIFY, _AUDIT + _previous._NOTIFY, 1)


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
    DELETE FROM workstation.audit_open_tx WHERE txid = NEW.txid;
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

_FUNCTIONS = ("audit_chain()", "audit_append_only()")
_TABLES_DROPPED = (
    "workstation.audit_log, workstation.audit_pending, workstation.audit_open_tx, "
    "workstation.audit_chain_head"
)


def upgrade() -> None:
    """Create the log, its queue and head, the chaining; record_change() writes the entries."""
    op.execute(_TABLES)
    op.execute(_CHAIN)
    op.execute(_APPEND_ONLY)
    for function in _FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION workstation.{function} FROM PUBLIC")
    op.execute(f"REVOKE ALL ON {_TABLES_DROPPED} FROM PUBLIC")
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
    op.execute(_audited_function())


def downgrade() -> None:
    """Restore revision 0004's record_change(); drop the log, its functions and tables."""
    op.execute(_feed_function())
    op.execute(f"DROP TABLE {_TABLES_DROPPED}")
    for function in _FUNCTIONS:
        op.execute(f"DROP FUNCTION workstation.{function}")
