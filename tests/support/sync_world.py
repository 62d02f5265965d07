"""Workstations and a central database for sync tests: real stores, real PostgreSQL.

A workstation is a data folder whose store has a signed-in central user (the verified identity
is given directly: the sign-in flow itself is tested elsewhere). Its engine is the real one,
opened by ``services.sync_service.open_sync`` as the CLI and the window open it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from iamedic_desktop.auth.oauth import SignedIn
from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import Base
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.sessions import complete_sign_in
from iamedic_desktop.services.sync_service import close_sync, open_sync
from iamedic_desktop.sync.engine import SyncEngine, SyncReport
from iamedic_desktop.sync.rows import NEVER_COPIED, TABLE_ORDER


def install_central(engine: Engine, kind: str = "database") -> None:
    """The web's ten tables and the workstation schema, files stored ``kind``."""
    upgrade_central(engine, file_storage=kind)


def add_doctor(central: Engine, email: str, *, admin: bool = False) -> uuid.UUID:
    """An approved doctor (and admin) in the central database, written the web's way."""
    user_id = uuid.uuid4()
    with central.begin() as conn:
        conn.execute(
            text("INSERT INTO users (id, email, name, google_id, is_active) "
                 "VALUES (:id, :e, :n, :g, true)"),
            {"id": user_id, "e": email, "n": email.split("@")[0], "g": f"g-{user_id}"},
        )  # fmt: skip
        for role in ("doctor", "admin") if admin else ("doctor",):
            conn.execute(
                text("INSERT INTO user_roles (id, user_id, role) VALUES (:id, :u, :r)"),
                {"id": uuid.uuid4(), "u": user_id, "r": role},
            )
        conn.execute(
            text("INSERT INTO doctor_profiles (id, user_id, matriculation_id, legal_name, "
                 "specialization, status) VALUES (:id, :u, :m, 'Dr', 'OB', 'approved')"),
            {"id": uuid.uuid4(), "u": user_id, "m": f"M-{user_id.hex[:8]}"},
        )  # fmt: skip
    return user_id


def workstation_settings(folder: Path, central_url: str, **more: Any) -> Settings:
    """Settings of a workstation whose data live in ``folder``."""
    return Settings(data_dir=folder, central_url=central_url, **more)


def sign_in_store(settings: Settings, email: str) -> None:
    """Sign ``email`` in on the store in ``settings.data_dir`` (identity copied from central)."""
    store = open_local_store(settings, check_sign_in=False)
    try:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        complete_sign_in(store.uow, settings, SignedIn(email, email, f"sub-{email}", None, expires))
    finally:
        store.close()


@dataclass
class Workstation:
    """An opened, signed-in store and its sync engine."""

    store: LocalStore
    engine: SyncEngine

    def sync(self, **kwargs: Any) -> SyncReport:
        """One sync, as ``iamedic sync`` runs it."""
        return self.engine.run(**kwargs)


@contextmanager
def workstation(settings: Settings) -> Iterator[Workstation]:
    """The signed-in store of ``settings`` with its engine, closed after."""
    store = open_local_store(settings)
    try:
        engine = open_sync(store)
        try:
            yield Workstation(store, engine)
        finally:
            close_sync(engine)
    finally:
        store.close()


def table_rows(engine: Engine, name: str, where: str = "", params: dict | None = None) -> set:
    """A table's rows (the copied columns) as a set of tuples, for comparing stores."""
    skip = NEVER_COPIED.get(name, frozenset())
    cols = [c.name for c in Base.metadata.tables[name].columns if c.name not in skip]
    with engine.connect() as conn:
        rows = conn.execute(
            Base.metadata.tables[name]
            .select()
            .with_only_columns(*(Base.metadata.tables[name].c[c] for c in cols))
            .where(text(where or "true")),
            params or {},
        )
        return {tuple(_norm(v) for v in row) for row in rows}


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "value"):
        return value.value
    return str(value) if isinstance(value, uuid.UUID) else value


def all_tables(engine: Engine) -> dict[str, set]:
    """Every central table's rows."""
    return {name: table_rows(engine, name) for name in TABLE_ORDER}
