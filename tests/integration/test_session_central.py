"""Sign-in with a central database: the user, roles and profile as the web shows them.

Real sign-in through the stand-in provider, a real file keyring, SQLite and the real PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from iamedic_desktop.auth.secrets import OAUTH_KEYRING_SERVICE
from iamedic_desktop.core.errors import AuthenticationError, PermissionDeniedError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import Base, DoctorProfile, OutboxEntry, Study, User, UserRole
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.models.local import LocalSession
from iamedic_desktop.services.annotations import get_annotations, set_usefulness
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.sessions import answer_local_studies, complete_sign_in
from iamedic_desktop.services.studies import create_study, list_studies
from tests.factories import make_doctor, make_media, make_study, seeding
from tests.integration.session_support import browser_sign_in, engine_url, settings_for
from tests.support.idp import IdpHandle, running_idp
from tests.support.keyring_file import FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres

ADA = "ada.doctor@example.org"
BOB = "bob.doctor@example.org"
UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/iamedic"


@pytest.fixture
def central(pg_central_engine: Engine) -> Engine:
    """The run's central database (the ten tables), emptied for this test."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_central_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    return pg_central_engine


@pytest.fixture
def idp() -> Iterator[IdpHandle]:
    with running_idp(ADA, "Dr. Ada Lovelace") as handle:
        yield handle


def _central_doctor(central: Engine, email: str, name: str = "Dr. Central") -> User:
    with Session(central, expire_on_commit=False) as session:
        user = make_doctor(session, email=email, name=name)
        session.commit()
    return user


def _sign_in(settings: Settings) -> LocalStore:
    store = open_local_store(settings, check_sign_in=False)
    try:
        complete_sign_in(store.uow, settings, browser_sign_in(settings))
    finally:
        store.close()
    return open_local_store(settings)


def _make_refresh_due(settings: Settings) -> None:
    store = open_local_store(settings, check_sign_in=False)
    try:
        with store.uow() as uow:
            past = utcnow() - dt.timedelta(minutes=1)
            uow.session.execute(update(LocalSession).values(token_expires_at=past))
            uow.commit()
    finally:
        store.close()


def test_sign_in_copies_the_user_roles_and_profile_from_central(
    idp: IdpHandle, file_keyring: FileKeyring, central: Engine
) -> None:
    doctor = _central_doctor(central, ADA, "Ada as the web knows her")
    store = _sign_in(settings_for(idp, central_url=engine_url(central)))
    try:
        assert store.actor.user_id == doctor.id  # the central id: one person, one row
        with store.uow() as uow:
            user = uow.session.get_one(User, doctor.id)
            roles = uow.session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))
            profile = uow.session.scalars(select(DoctorProfile)).all()
            echoed = uow.session.scalars(
                select(OutboxEntry).where(OutboxEntry.row_id == doctor.id)
            ).all()
            assert (user.name, user.access_token, user.refresh_token) == (
                "Ada as the web knows her", None, None,
            )  # fmt: skip
            assert list(roles) == ["doctor"]
            assert [p.status for p in profile if p.user_id == doctor.id] == ["approved"]
        assert echoed == []  # central's own rows are not pushed back
        assert create_study(store.uow, store.actor, "First scan").alias == "First scan"
    finally:
        store.close()


def test_offline_a_signed_in_doctor_annotates_until_the_limit(
    idp: IdpHandle, file_keyring: FileKeyring, central: Engine
) -> None:
    _central_doctor(central, ADA)
    online = settings_for(idp, central_url=engine_url(central), offline_days=7)
    store = _sign_in(online)
    with seeding(store.uow) as session:
        media = make_media(session, make_study(session, session.get_one(User, store.actor.user_id)))
    store.close()
    # Provider and database both unreachable; the session's ID token has expired.
    offline = settings_for(
        idp, central_url=UNREACHABLE_DB, oauth_issuer="http://127.0.0.1:1", offline_days=7
    )
    _make_refresh_due(online)

    store = open_local_store(offline)
    try:
        assert store.session is not None and store.session.online == "offline"
        set_usefulness(store.uow, store.actor, media.id, 1)
        label = get_annotations(store.uow, store.actor, media.id).usefulness
        assert label is not None and label.usefulness == 1
    finally:
        store.close()

    with pytest.raises(AuthenticationError, match="Sign-in required: run iamedic login"):
        open_local_store(offline.model_copy(update={"offline_days": 0}))


def test_a_role_revoked_centrally_takes_effect_at_the_next_online_refresh(
    idp: IdpHandle, file_keyring: FileKeyring, central: Engine
) -> None:
    doctor = _central_doctor(central, ADA)
    settings = settings_for(idp, central_url=engine_url(central))
    _sign_in(settings).close()
    with central.begin() as conn:
        conn.execute(delete(UserRole).where(UserRole.user_id == doctor.id))

    store = open_local_store(settings)  # not due yet: the roles last seen still hold
    try:
        create_study(store.uow, store.actor, "Before the refresh")
    finally:
        store.close()

    _make_refresh_due(settings)
    store = open_local_store(settings)
    try:
        assert store.session is not None and store.session.online == "online"
        with pytest.raises(PermissionDeniedError, match="doctor role"):
            create_study(store.uow, store.actor, "After the refresh")
    finally:
        store.close()

    with central.begin() as conn:
        conn.execute(update(User).where(User.id == doctor.id).values(is_active=False))
    _make_refresh_due(settings)
    store = open_local_store(settings)
    try:
        with pytest.raises(PermissionDeniedError, match="deactivated"):
            list_studies(store.uow, store.actor)
    finally:
        store.close()


def test_two_doctors_on_one_workstation_each_see_only_their_own_studies(
    idp: IdpHandle, file_keyring: FileKeyring, central: Engine
) -> None:
    _central_doctor(central, ADA)
    _central_doctor(central, BOB)
    settings = settings_for(idp, central_url=engine_url(central))
    local = open_local_store(settings)
    create_study(local.uow, local.actor, "Made in local mode")
    local.close()

    ada = _sign_in(settings)
    try:
        assert answer_local_studies(ada.uow, ada.actor, take=True) == 1
        create_study(ada.uow, ada.actor, "Ada's second")
    finally:
        ada.close()

    idp.email, idp.name = BOB, "Dr. Bob"
    bob = _sign_in(settings)  # over Ada's session, never signed out: hers ends
    try:
        assert bob.actor.email == BOB
        assert file_keyring.get_password(OAUTH_KEYRING_SERVICE, ADA) is None
        assert file_keyring.get_password(OAUTH_KEYRING_SERVICE, BOB) is not None
        assert list_studies(bob.uow, bob.actor).total == 0
        create_study(bob.uow, bob.actor, "Bob's own")
        assert [s.alias for s in list_studies(bob.uow, bob.actor).items] == ["Bob's own"]
    finally:
        bob.close()

    idp.email, idp.name = ADA, "Dr. Ada Lovelace"
    ada = _sign_in(settings)
    try:
        aliases = sorted(s.alias for s in list_studies(ada.uow, ada.actor).items)
        assert aliases == ["Ada's second", "Made in local mode"]
        with ada.uow() as uow:
            assert len(uow.session.scalars(select(Study)).all()) == 3  # nothing lost
    finally:
        ada.close()


def test_a_user_made_before_the_central_row_was_seen_takes_its_id(
    idp: IdpHandle, file_keyring: FileKeyring, central: Engine
) -> None:
    # First sign-in with the central database unreachable: a local user row is made.
    local = open_local_store(Settings())
    local_clinician = local.actor.user_id
    local.close()
    _sign_in(settings_for(idp, central_url=UNREACHABLE_DB)).close()
    doctor = _central_doctor(central, ADA)
    store = _sign_in(settings_for(idp, central_url=engine_url(central)))
    try:
        assert store.actor.user_id == doctor.id
        create_study(store.uow, store.actor, "Under the central id")
        with store.uow() as uow:
            emails = uow.session.scalars(select(User.email).where(User.email == ADA)).all()
            users_to_push = uow.session.scalars(
                select(OutboxEntry.row_id).where(OutboxEntry.table_name == "users")
            ).all()
        assert emails == [ADA]
        assert set(users_to_push) == {local_clinician}  # the replaced row is never pushed either
    finally:
        store.close()
