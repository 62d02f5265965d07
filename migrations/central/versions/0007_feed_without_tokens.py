"""The change feed no longer carries the web's Google tokens.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Revision 0003 stored each changed row whole in ``change_feed.row_data``: for a ``users`` row
that included the web backend's own Google tokens (``access_token``, ``refresh_token``,
``token_expires_at``), which no workstation ever reads or writes, yet every admin login could
read from the feed. ``record_change()`` now drops them from the feed entry (the audit log
already writes "[redacted]" for them), and the entries already there are scrubbed. Downgrade
restores revision 0005's body (0006 did not change the function); scrubbed entries stay
scrubbed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op
from alembic.util import load_python_file

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_audit = load_python_file(Path(__file__).resolve().parent, "0005_audit_log.py")

TOKENS = ("access_token", "refresh_token", "token_expires_at")
_FEED_VALUES = "v_doctor, v_study, v_media, data);"
_STRIPPED = " - ".join(["data", *(f"'{t}'" for t in TOKENS)])
_WITHOUT_TOKENS = (
    f"v_doctor, v_study, v_media,\n        CASE WHEN TG_TABLE_NAME = 'users' THEN {_STRIPPED} "
    "ELSE data END);"
)


def _function() -> str:
    body = _audit._audited_function()
    if body.count(_FEED_VALUES) != 1:
        raise RuntimeError("Revision 0005's record_change() is not the text revision 0007 knows.")
    return body.replace(_FEED_VALUES, _WITHOUT_TOKENS, 1)


def upgrade() -> None:
    """record_change() drops the tokens from feed entries; existing entries are scrubbed."""
    op.execute(_function())
    op.execute(
        f"UPDATE workstation.change_feed SET row_data = {_STRIPPED.replace('data', 'row_data', 1)} "
        "WHERE table_name = 'users' AND row_data ?| ARRAY["
        + ", ".join(f"'{t}'" for t in TOKENS)
        + "]"
    )


def downgrade() -> None:
    """Restore revision 0005's record_change()."""
    op.execute(_audit._audited_function())
