"""Where the administration acts: the real central PostgreSQL when reachable, else this store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from iamedic_desktop.core.errors import CentralDatabaseError, PermissionDeniedError
from iamedic_desktop.core.settings import Settings, get_settings, reset_settings_cache
from iamedic_desktop.models import Base, DoctorProfile, OutboxEntry, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services import doctor_profiles, users
from iamedic_desktop.services.admin_target import admin_target
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_admin, make_user, seeding, store_snapshot

pytestmark = pytest.mark.postgres

UNREACHABLE = "postgresql://clinic@127.0.0.1:9/iamedic"


@dataclass(frozen=True)
class World:
    """A local store whose signed-in admin is also an admin on a central database."""

    store: LocalStore
    admin: Actor  # the local row: its id differs from the central one
    central: UnitOfWorkFactory
    central_url: str


def _settings(monkeypatch: pytest.MonkeyPatch, central_url: str | None) -> Settings:
    if central_url is not None:
        monkeypatch.setenv("IAMEDIC_CENTRAL_URL", central_url)
    reset_settings_cache()
    return get_settings()


@pytest.fixture
def world(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    engine = create_engine(pg_database)
    Base.metadata.create_all(engine)
    central = UnitOfWorkFactory(engine)
    with seeding(central) as session:
        make_admin(session, email="ada@example.org", name="Ada Admin")
        make_user(session, email="ben@example.org", name="Ben", doctor_status="pending")
    store = open_local_store(_settings(monkeypatch, None))
    with seeding(store.uow) as session:
        # As sign-in leaves it: the same person under a local id of its own, a plain user here.
        admin = actor_for(make_user(session, email="ada@example.org", name="Ada Admin"))
    try:
        yield World(store, admin, central, pg_database)
    finally:
        store.close()
        engine.dispose()


def _central_roles(world: World, email: str) -> list[str]:
    with world.central() as uow:
        query = select(UserRole.role).join(User, User.id == UserRole.user_id)
        return sorted(uow.session.scalars(query.where(User.email == email)))


def _outbox_size(store: LocalStore) -> int:
    with store.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(OutboxEntry)) or 0


def test_a_reachable_central_database_is_changed_directly(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, world.central_url)
    local_before, outbox_before = store_snapshot(world.store.uow), _outbox_size(world.store)
    with admin_target(settings, world.store.uow, world.admin) as target:
        name = make_url(world.central_url).database
        assert (target.is_central, target.where) == (
            True,
            f"central database 127.0.0.1:5432/{name}",
        )
        assert target.actor.user_id != world.admin.user_id
        listing = users.list_users(target.uow, target.actor)
        assert [u.email for u in listing.items] == ["ben@example.org", "ada@example.org"]
        granted = users.grant_role(target.uow, target.actor, "ben@example.org", "admin")
        decision = doctor_profiles.approve_doctor_profile(
            target.uow, target.actor, "ben@example.org", notes="Checked"
        )
    assert (granted.changed, decision.role_granted) == (True, True)
    assert _central_roles(world, "ben@example.org") == ["admin", "doctor"]
    with world.central() as uow:
        profile = uow.session.scalars(select(DoctorProfile)).one()
        assert (profile.status, profile.notes) == ("approved", "Checked")
    # Nothing was queued or changed locally: the central rows are the truth.
    assert store_snapshot(world.store.uow) == local_before
    assert _outbox_size(world.store) == outbox_before


def test_without_a_central_database_the_local_store_is_the_target(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, None)
    with admin_target(settings, world.store.uow, world.store.actor) as target:
        assert (target.is_central, target.where, target.actor) == (
            False,
            "this workstation",
            world.store.actor,
        )
        assert users.list_users(target.uow, target.actor).total == 2


def test_an_unreachable_central_database_falls_back_to_this_workstation(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, UNREACHABLE)
    with admin_target(settings, world.store.uow, world.store.actor, connect_timeout=1) as target:
        assert not target.is_central
        assert target.where == (
            "this workstation (offline: the central database 127.0.0.1:9/iamedic is unreachable)"
        )
        change = users.grant_role(target.uow, target.actor, "ada@example.org", "doctor")
    assert change.user.roles == ["doctor"]
    assert _central_roles(world, "ada@example.org") == ["admin"]


def test_a_central_user_without_the_admin_role_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(monkeypatch, world.central_url)
    with seeding(world.store.uow) as session:
        # An admin here, but only a pending applicant centrally.
        ben = actor_for(make_admin(session, email="Ben@Example.org", name="Ben"))
    before = store_snapshot(world.central)
    with admin_target(settings, world.store.uow, ben) as target:
        assert target.is_central
        with pytest.raises(PermissionDeniedError, match="needs an administrator"):
            users.grant_role(target.uow, target.actor, "ben@example.org", "admin")
        with pytest.raises(PermissionDeniedError, match="needs an administrator"):
            doctor_profiles.approve_doctor_profile(target.uow, target.actor, "ben@example.org")
    assert store_snapshot(world.central) == before


@pytest.mark.parametrize("who", ["local-mode", "unknown"])
def test_who_cannot_act_on_the_central_database(
    world: World, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    settings = _settings(monkeypatch, world.central_url)
    if who == "local-mode":
        actor, complaint = world.store.actor, "local-mode user works on this workstation only"
    else:
        with seeding(world.store.uow) as session:
            actor = actor_for(make_admin(session, email="carl@example.org"))
        complaint = "carl@example.org is not known to the central database"
    before = store_snapshot(world.central)
    with (
        pytest.raises(PermissionDeniedError, match=complaint),
        admin_target(settings, world.store.uow, actor),
    ):
        pytest.fail("no target for this actor")
    assert store_snapshot(world.central) == before


def test_a_central_database_that_refuses_or_is_empty_is_said_plainly(
    world: World, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = make_url(world.central_url).set(database="iamedic_no_such_db").render_as_string()
    settings = _settings(monkeypatch, missing)
    with (
        pytest.raises(CentralDatabaseError, match="refused the connection"),
        admin_target(settings, world.store.uow, world.admin),
    ):
        pytest.fail("no target on a refused connection")
    empty = create_engine(pg_database)
    with empty.begin() as conn:
        Base.metadata.drop_all(conn)
    empty.dispose()
    settings = _settings(monkeypatch, pg_database)
    with (
        pytest.raises(CentralDatabaseError, match="no IAMEDIC tables"),
        admin_target(settings, world.store.uow, world.admin),
    ):
        pytest.fail("no target without the central tables")
