"""Opening the embedded store: the data folder check, migrations, change tracking, the actor.

The actor is the signed-in user of the store's current session (refreshed online when due,
``services/sessions.py``), or, on a store where nobody ever signed in, the local clinician.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.migrate import upgrade_local
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import LocalIdentity
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services.local_mode import IDENTITY_ROW, ensure_local_user
from iamedic_desktop.services.maintenance import run_startup_maintenance
from iamedic_desktop.services.sessions import SessionState, check_session
from iamedic_desktop.services.store_marker import check_before_open, tie_to_store
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory, make_session_factory
from iamedic_desktop.sync.outbox import track_local_changes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalStore:
    """The embedded store, ready for services: its engine, unit-of-work factory and actor."""

    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    actor: Actor
    media: MediaStore
    session: SessionState | None = None  # None: opened without resolving the sign-in

    def close(self) -> None:
        """Refresh the query planner's statistics and release the store's connections."""
        # SQLite plans with statistics only once ANALYZE has run; "optimize" runs it where
        # it is worth it, cheaply (the study browser's paged queries depend on it).
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA optimize")
        except Exception:
            log.warning("⚠️ The store's statistics could not be refreshed", exc_info=True)
        self.engine.dispose()


def _store_id(uow: UnitOfWorkFactory) -> uuid.UUID:
    with uow() as work:
        return work.session.get_one(LocalIdentity, IDENTITY_ROW).device_id


def open_local_store(
    settings: Settings, *, check_sign_in: bool = True, force_refresh: bool = False
) -> LocalStore:
    """Create or upgrade the store in ``settings.data_dir`` and return it with its actor.

    A data folder whose media have no database, or another store's, is refused unchanged
    (StorageError saying what to restore): an empty store in its place would orphan them.
    Once someone has signed in on the store, AuthenticationError ("Sign-in required") when no
    session is valid. ``check_sign_in=False`` (sign-in and sign-out themselves) skips that and
    acts as the local clinician; ``force_refresh`` confirms the session online even when not due.
    """
    check_before_open(settings)
    settings.ensure_dirs()
    engine = create_local_engine(settings.local_db_path)
    try:
        upgrade_local(engine)
        session_factory = make_session_factory(engine)
        track_local_changes(session_factory)
        uow = UnitOfWorkFactory(engine, session_factory)
        actor = ensure_local_user(uow, settings)
        tie_to_store(settings, _store_id(uow))
        media = MediaStore(settings.media_dir)
        run_startup_maintenance(uow, media)
        state = None
        if check_sign_in:
            state = check_session(uow, settings, actor, force_refresh=force_refresh)
            actor = state.actor
    except BaseException:
        engine.dispose()
        raise
    log.info("✅ Local store ready at %s", settings.local_db_path)
    return LocalStore(
        settings=settings, engine=engine, uow=uow, actor=actor, media=media, session=state
    )
