"""The sync of an opened local store: who it runs for, where it goes, and its conflicts.

``open_sync`` refuses, saying why, what cannot sync: no central database configured, nobody
signed in (the local-mode clinician is never pushed: a signed-in user takes the local studies
first), an account the central database does not hold, or file storage settings that disagree
with the deployment. The engine it returns is closed with ``close``.

Threading: blocking; the CLI calls it directly, the window from its sync worker.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.database import tls_refusal
from iamedic_desktop.core.errors import AuthenticationError, CentralDatabaseError, SyncError
from iamedic_desktop.models import LocalIdentity
from iamedic_desktop.services.central_access import check_login, login_refusal
from iamedic_desktop.services.local_mode import IDENTITY_ROW, local_user_id
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.services.media_fetch import fetch_media, remote_media_ids
from iamedic_desktop.services.permissions import roles_of
from iamedic_desktop.sync.audit import identify_connections
from iamedic_desktop.sync.central_files import CentralFiles, open_central_files
from iamedic_desktop.sync.engine import SyncEngine
from iamedic_desktop.sync.pull import PullReport
from iamedic_desktop.sync.push_files import FileSender
from iamedic_desktop.sync.scope import Scope

CONNECT_TIMEOUT_S = 5


def open_sync(store: LocalStore) -> SyncEngine:
    """The sync engine of ``store`` for its signed-in user; refused with a reason otherwise."""
    from iamedic_desktop.auth.secrets import central_url, central_url_setting
    from iamedic_desktop.core.database import create_central_engine

    central_url_setting(store.settings)  # InvalidInputError: none configured
    with store.uow() as uow:
        session = uow.session
        local_user = local_user_id(session)
        if store.actor.user_id == local_user:
            raise AuthenticationError(
                "Sign in before syncing: work done in local mode is pushed once it belongs to "
                "a signed-in user."
            )
        is_admin = "admin" in roles_of(session, store.actor.user_id)
        device_id = session.get_one(LocalIdentity, IDENTITY_ROW).device_id
    central = create_central_engine(
        central_url(store.settings), connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )
    identify_connections(central, store.actor.user_id, device_id)  # for the audit log
    try:
        _check_account(central, store)
        files = open_central_files(store.settings, central.connect)
    except BaseException:
        central.dispose()
        raise
    eager = store.settings.fetch_media == "eager"
    return SyncEngine(
        store.uow,
        central,
        FileSender(files, store.media, store.uow),
        Scope(store.actor.user_id, is_admin, local_user),
        device_id,
        after_pull=(lambda report: _fetch_pulled(store, files, report)) if eager else None,
        explain=lambda message: _explained(central, message),
    )


def _explained(central: Engine, message: str) -> str | None:
    """The driver's refusal in a person's words: a revoked or wrong login, a TLS link refused;
    None for any other failure. One translation for the opening check and every sync."""
    return login_refusal(message, central.url.username) or tls_refusal(message)


def _fetch_pulled(store: LocalStore, files: CentralFiles, report: PullReport) -> None:
    """The ``eager`` setting: every active media whose file is not here is fetched now."""
    if "media" not in report.tables and not report.loaded:
        return
    wanted = remote_media_ids(store.uow)
    if wanted:
        fetch_media(store.uow, store.media, files, wanted, settings=store.settings)


def _check_account(central: Engine, store: LocalStore) -> None:
    try:
        with central.connect() as conn:
            check_login(conn, store.actor.user_id, store.actor.email)
            found = conn.execute(
                text("SELECT is_active FROM public.users WHERE id = :me"),
                {"me": store.actor.user_id},
            ).first()
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        if (refusal := login_refusal(str(cause), central.url.username)) is not None:
            raise AuthenticationError(refusal) from exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        reason = _explained(central, str(cause)) or first
        raise CentralDatabaseError(f"The central database cannot be reached: {reason}") from exc
    if found is None:
        raise SyncError(
            f"The account {store.actor.email} is not in the central database: sign in again "
            "while the central database can be reached."
        )
    if found[0] is False:
        raise AuthenticationError(
            f"The account {store.actor.email} has been deactivated; ask an administrator."
        )


def close_sync(engine: SyncEngine) -> None:
    """Release the engine's central connections."""
    engine.central.dispose()


__all__ = ["close_sync", "open_sync"]
