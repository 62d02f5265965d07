"""Workstations known to the central database: registration, last contact and pull cursor.

Threading: plain blocking calls on a SQLAlchemy connection not in a transaction (each call is
its own transaction); run them on a worker, never on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from iamedic_desktop.core.errors import NotFoundError


@dataclass(frozen=True)
class Device:
    """A workstation as the central database knows it."""

    device_id: uuid.UUID
    user_id: uuid.UUID | None
    name: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    cursor: str | None


_COLUMNS = "device_id, user_id, name, created_at, last_seen_at, cursor"


def register(
    connection: Connection, device_id: uuid.UUID, name: str, user_id: uuid.UUID | None = None
) -> Device:
    """Record this workstation (again): its name and user are updated, its cursor kept."""
    with connection.begin():
        row = connection.execute(
            text(
                "INSERT INTO workstation.devices (device_id, user_id, name) VALUES (:d, :u, :n) "
                "ON CONFLICT (device_id) DO UPDATE SET user_id = :u, name = :n, "
                f"last_seen_at = now() RETURNING {_COLUMNS}"
            ),
            {"d": device_id, "u": user_id, "n": name},
        ).one()
    return Device(*row)


def heartbeat(connection: Connection, device_id: uuid.UUID) -> Device:
    """Note that the workstation was in contact now (the database server's clock)."""
    return _update(connection, device_id, "last_seen_at = now()", {})


def save_cursor(connection: Connection, device_id: uuid.UUID, cursor: str) -> Device:
    """Keep the cursor of the changes this workstation has applied."""
    return _update(connection, device_id, "cursor = :c, last_seen_at = now()", {"c": cursor})


def _update(
    connection: Connection, device_id: uuid.UUID, assignments: str, params: dict[str, object]
) -> Device:
    with connection.begin():
        row = connection.execute(
            text(
                f"UPDATE workstation.devices SET {assignments} WHERE device_id = :d "
                f"RETURNING {_COLUMNS}"
            ),
            {**params, "d": device_id},
        ).one_or_none()
    if row is None:
        raise NotFoundError("This workstation is not registered with the central database.")
    return Device(*row)
