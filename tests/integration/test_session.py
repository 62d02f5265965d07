"""Sign-in sessions on the embedded store: who acts, offline time, sign-out, local-mode studies.

Real sign-in through the stand-in provider on 127.0.0.1, a real (file) keyring, real SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update

from iamedic_desktop.auth.secrets import OAUTH_KEYRING_SERVICE
from iamedic_desktop.core.errors import AuthenticationError, PermissionDeniedError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import Media, OutboxEntry, Study, User
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.models.local import LocalSession
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.sessions import (
    answer_local_studies,
    complete_sign_in,
    pending_local_studies,
    session_info,
    sign_out,
)
from iamedic_desktop.services.studies import create_study, list_studies
from tests.factories import make_media, make_study, seeding
from tests.integration.session_support import browser_sign_in, settings_for
from tests.support.idp import IdpHandle, running_idp
from tests.support.keyring_file import FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (fixture)

EMAIL = "ada.doctor@example.org"


@pytest.fixture
def idp() -> Iterator[IdpHandle]:
    with running_idp(EMAIL, "Dr. Ada Lovelace") as handle:
        yield handle


def _open(settings: Settings, **options: bool) -> LocalStore:
    return open_local_store(settings, **options)


def _sign_in(settings: Settings) -> LocalStore:
    """Sign in as the CLI does; returns the store opened afterwards, as the next command sees it."""
    store = _open(settings, check_sign_in=False)
    try:
        complete_sign_in(store.uow, settings, browser_sign_in(settings))
    finally:
        store.close()
    return _open(settings)


def _age_session(settings: Settings, *, days: float, token_expired: bool = True) -> None:
    """Move the last online confirmation ``days`` into the past (and the ID token's expiry)."""
    store = _open(settings, check_sign_in=False)
    try:
        with store.uow() as uow:
            moment = utcnow() - dt.timedelta(days=days)
            values: dict[str, object] = {"refreshed_at": moment}
            if token_expired:
                values["token_expires_at"] = moment + dt.timedelta(hours=1)
            uow.session.execute(update(LocalSession).values(**values))
            uow.commit()
    finally:
        store.close()


def test_first_sign_in_makes_the_user_act_and_ends_local_mode(
    idp: IdpHandle, file_keyring: FileKeyring
) -> None:
    settings = settings_for(idp)
    local = _open(settings)
    local_actor = local.actor
    assert local.session is not None and not local.session.signed_in
    local.close()

    store = _sign_in(settings)
    try:
        assert store.actor.email == EMAIL
        assert store.actor.user_id != local_actor.user_id
        info = session_info(store.uow, store.session)  # type: ignore[arg-type]
        assert (info.mode, info.roles, info.doctor_status) == ("signed in", [], None)
        with store.uow() as uow:
            user = uow.session.get(User, store.actor.user_id)
            local_user = uow.session.get(User, local_actor.user_id)
        assert user is not None and user.google_id == idp.subject and user.name == idp.name
        assert local_user is not None and local_user.is_active is False
        # The local clinician's roles serve nothing anymore.
        with pytest.raises(PermissionDeniedError, match="deactivated"):
            create_study(store.uow, local_actor, "After sign-in")
        assert file_keyring.get_password(OAUTH_KEYRING_SERVICE, EMAIL) in idp.refresh_tokens
    finally:
        store.close()


def test_sign_out_clears_the_keyring_and_requires_sign_in(
    idp: IdpHandle, file_keyring: FileKeyring
) -> None:
    settings = settings_for(idp)
    _sign_in(settings).close()
    store = _open(settings, check_sign_in=False)
    try:
        assert sign_out(store.uow, settings) == EMAIL
        assert sign_out(store.uow, settings) is None
    finally:
        store.close()
    assert file_keyring.secrets() == []
    with pytest.raises(AuthenticationError, match="Sign-in required: run iamedic login"):
        _open(settings)


def test_offline_within_the_limit_then_sign_in_is_required(
    idp: IdpHandle, file_keyring: FileKeyring
) -> None:
    settings = settings_for(idp, offline_days=7)
    _sign_in(settings).close()
    unreachable = settings_for(idp, offline_days=7, oauth_issuer="http://127.0.0.1:1")

    _age_session(settings, days=6)
    store = _open(unreachable)
    try:
        assert store.actor.email == EMAIL
        assert store.session is not None and store.session.online == "offline"
    finally:
        store.close()

    _age_session(settings, days=7.01)
    with pytest.raises(AuthenticationError, match="Sign-in required: run iamedic login"):
        _open(unreachable)
    # Nothing was changed by the refusal: a longer limit lets the same session work.
    _open(settings_for(idp, offline_days=30, oauth_issuer="http://127.0.0.1:1")).close()


def test_a_due_session_is_confirmed_online(idp: IdpHandle, file_keyring: FileKeyring) -> None:
    settings = settings_for(idp)
    _sign_in(settings).close()
    _age_session(settings, days=8)  # past the limit too: online, that does not matter
    store = _open(settings)
    try:
        assert store.session is not None and store.session.online == "online"
        with store.uow() as uow:
            row = uow.session.scalars(select(LocalSession)).one()
        assert utcnow() - row.refreshed_at < dt.timedelta(minutes=1)
        assert row.token_expires_at > utcnow()
    finally:
        store.close()


def test_a_sign_in_withdrawn_at_the_provider_requires_sign_in(
    idp: IdpHandle, file_keyring: FileKeyring
) -> None:
    settings = settings_for(idp)
    _sign_in(settings).close()
    idp.revoke()
    _age_session(settings, days=0.1)
    with pytest.raises(AuthenticationError, match=r"withdrawn.*Sign-in required: run iamedic"):
        _open(settings)


def test_taking_the_local_studies_moves_every_one_with_its_media(
    idp: IdpHandle, file_keyring: FileKeyring
) -> None:
    settings = settings_for(idp)
    local = _open(settings)
    with seeding(local.uow) as session:
        clinician = session.get_one(User, local.actor.user_id)
        kept = make_study(session, clinician, alias="Morning scan")
        make_media(session, kept)
        make_media(session, kept)
        make_study(session, clinician, alias="Deleted one", is_active=False)
    local.close()

    store = _sign_in(settings)
    try:
        assert pending_local_studies(store.uow) == (2, None)
        # The signed-in user made a study of the same alias meanwhile: both are kept.
        with seeding(store.uow) as session:
            make_study(session, session.get_one(User, store.actor.user_id), alias="Morning scan")
        with store.uow() as uow:
            outbox_before = uow.session.scalar(select(func.max(OutboxEntry.seq)))
        assert answer_local_studies(store.uow, store.actor, take=True) == 2
        assert pending_local_studies(store.uow) == (0, "taken")
        with store.uow() as uow:
            studies = uow.session.scalars(select(Study)).all()
            media = uow.session.scalar(
                select(func.count()).select_from(Media).where(Media.study_id == kept.id)
            )
            pushed = set(
                uow.session.scalars(
                    select(OutboxEntry.row_id).where(
                        OutboxEntry.seq > outbox_before, OutboxEntry.table_name == "studies"
                    )
                )
            )
        assert {s.doctor_id for s in studies} == {store.actor.user_id}
        assert sorted(s.alias for s in studies) == [
            "Deleted one", "Morning scan", "Morning scan (local mode)",
        ]  # fmt: skip
        assert media == 2
        assert kept.id in pushed  # the new owner reaches the central database with the sync
    finally:
        store.close()


def test_leaving_the_local_studies_is_recorded_and_changes_nothing(
    idp: IdpHandle, file_keyring: FileKeyring
) -> None:
    settings = settings_for(idp)
    local = _open(settings)
    create_study(local.uow, local.actor, "Left behind")
    local_id = local.actor.user_id
    local.close()
    store = _sign_in(settings)
    try:
        assert answer_local_studies(store.uow, store.actor, take=False) == 0
        assert pending_local_studies(store.uow) == (1, "left")
        with store.uow() as uow:
            assert uow.session.scalars(select(Study.doctor_id)).all() == [local_id]
    finally:
        store.close()


def test_a_store_never_signed_in_stays_in_local_mode(file_keyring: FileKeyring) -> None:
    store = _open(Settings())
    try:
        assert store.session is not None and not store.session.signed_in
        assert list_studies(store.uow, store.actor).total == 0
    finally:
        store.close()
