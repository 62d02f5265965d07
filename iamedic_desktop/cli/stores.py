"""The stores a command works on, opened for the command and closed after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.services.local_store import LocalStore


@contextmanager
def local_store(settings: Settings, *, check_sign_in: bool = True) -> Iterator[LocalStore]:
    """The embedded store, created or upgraded, with the signed-in (or local) user as actor.

    ``check_sign_in=False`` is for the store's own maintenance, which acts for nobody.
    """
    from iamedic_desktop.services.local_store import open_local_store

    store = open_local_store(settings, check_sign_in=check_sign_in)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def central_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the configured central database, with its password from the keyring."""
    from iamedic_desktop.auth.secrets import central_url
    from iamedic_desktop.core.database import create_central_engine

    # Connection errors surface from core.migrate as CentralDatabaseError, password blanked.
    engine = create_central_engine(central_url(settings))
    try:
        yield engine
    finally:
        engine.dispose()
