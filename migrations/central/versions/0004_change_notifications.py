"""Every change feed entry also signals the workstations that are online (LISTEN/NOTIFY).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-17

``workstation.record_change()`` is re-created with one more statement at its end:
``pg_notify('workstation_changes', <doctor_id as text, or '' when the row has none>)``, so a
workstation listening on that channel (``sync/notifications.py``) learns within a second that
something of its doctor changed, and pulls the feed then instead of polling it. A notification
carries no row data, only a user id (any login may LISTEN): the feed stays the one source of
what changed, and a workstation that was offline misses nothing it cannot read there.

PostgreSQL delivers a notification only when the writing transaction commits (none for a
rolled-back one), and folds identical notifications of one transaction into one: a statement
changing 10,000 rows of one doctor sends one notification; one changing rows of n doctors (or
users, whose payload is their own id) sends n. Both are written in the writer's transaction,
so a feed entry and its notification come and go together.

Cost, measured as revision 0003 did (commit included): PostgreSQL 15, 2 cores, five runs each,
alternating the two bodies on one database. One statement inserting 10,000 media rows of one
doctor: 0.345-0.371 s with the 0003 body, 0.358-0.376 s with this one (medians 0.359 and
0.364 s), under 1 microsecond per row and within the noise: one payload, folded. 10,000 users in
one statement (10,000 different payloads, the worst case): 0.254-0.275 s and 0.273-0.305 s
(medians 0.257 and 0.286 s), about 3 microseconds per row. (This machine ran the 0003 body in
0.35 s where the 0003 docstring says 0.84-1.02 s: compare runs of one machine only.) A
transaction that notified also takes a short cluster-wide lock as it commits, so such commits
queue one behind the other; the web commits a few rows per request. A transaction that
notified cannot be prepared for two-phase commit (PREPARE TRANSACTION): the web never does
that.

The function keeps its name, signature, owner, SECURITY DEFINER and grants, and the triggers
of 0003 keep calling it. Downgrade restores the 0003 body, imported from that revision rather
than copied, so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from alembic.util import load_python_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHANNEL = "workstation_changes"

_previous = load_python_file(Path(__file__).resolve().parent, "0003_change_feed_files_devices.py")
_CREATE = "CREATE FUNCTION workstation.record_change()"
_END = "    RETURN NULL;\nEND\n"
_NOTIFY = f"    PERFORM pg_notify('{CHANNEL}', coalesce(v_doctor::text, ''));\n"


def _replace_function(body: str) -> str:
    """``body`` as a CREATE OR REPLACE of the same function."""
    if body.count(_CREATE) != 1 or body.count(_END) != 1:
        raise RuntimeError("Revision 0003's record_change() is not the text revision 0004 knows.")
    return body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    """Re-create record_change() with the notification at its end."""
    body: str = _previous._FUNCTION
    op.execute(_replace_function(body).replace(_END, _NOTIFY + _END))


def downgrade() -> None:
    """Restore revision 0003's record_change(): feed entries without notifications."""
    op.execute(_replace_function(_previous._FUNCTION))
