"""User and role services on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from iamedic_desktop.models import DoctorStatus, Role, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services import studies, users
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_admin, make_doctor, make_user, seeding, store_snapshot


@dataclass(frozen=True)
class Setup:
    """One admin, one approved doctor, one user with a NULL is_active."""

    admin: Actor
    doctor: Actor
    plain: Actor


@pytest.fixture
def setup(uow_factory: UnitOfWorkFactory) -> Setup:
    with seeding(uow_factory) as session:
        admin = make_admin(session, email="admin@example.org", name="Ada Admin")
        doctor = make_doctor(session, email="doc@example.org", name="Dora Doctor")
        plain = make_user(session, email="zed@example.org", name="Zed", is_active=None)
    return Setup(actor_for(admin), actor_for(doctor), actor_for(plain))


def _roles(uow_factory: UnitOfWorkFactory, actor: Actor) -> list[str]:
    with uow_factory() as uow:
        return sorted(
            uow.session.scalars(select(UserRole.role).where(UserRole.user_id == actor.user_id))
        )


def test_current_user_info(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    me = users.get_current_user_info(uow_factory, setup.doctor)
    assert (me.email, me.name, me.is_active, me.roles, me.doctor_status) == (
        "doc@example.org",
        "Dora Doctor",
        True,
        ["doctor"],
        DoctorStatus.APPROVED.value,
    )
    plain = users.get_current_user_info(uow_factory, setup.plain)
    assert (plain.is_active, plain.roles, plain.doctor_status) == (True, [], None)


def test_list_users_search_and_paging(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    page = users.list_users(uow_factory, setup.admin)
    assert [u.email for u in page.items] == [
        "admin@example.org",
        "doc@example.org",
        "zed@example.org",
    ]
    assert (page.total, page.limit) == (3, 100)
    found = users.list_users(uow_factory, setup.admin, search="DORA")
    assert [u.email for u in found.items] == ["doc@example.org"]
    second = users.list_users(uow_factory, setup.admin, offset=1, limit=1)
    assert ([u.email for u in second.items], second.total) == (["doc@example.org"], 3)


def test_grant_and_revoke_roles(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    granted = users.grant_role(uow_factory, setup.admin, setup.plain.user_id, "admin")
    assert granted.roles == ["admin"]
    before = store_snapshot(uow_factory)
    again = users.grant_role(uow_factory, setup.admin, str(setup.plain.user_id), "admin")
    assert again.roles == ["admin"]
    assert store_snapshot(uow_factory) == before  # already held: not an error, no change
    revoked = users.revoke_role(uow_factory, setup.admin, setup.doctor.user_id, "doctor")
    assert revoked.roles == []
    assert _roles(uow_factory, setup.doctor) == []
    with pytest.raises(PermissionDeniedError, match="doctor role"):
        studies.list_studies(uow_factory, setup.doctor)
    assert users.revoke_role(uow_factory, setup.admin, setup.doctor.user_id, "doctor").roles == []


def test_bad_role_or_user_changes_nothing(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="not a role"):
        users.grant_role(uow_factory, setup.admin, setup.plain.user_id, "superuser")
    with pytest.raises(InvalidInputError, match="not a valid user id"):
        users.grant_role(uow_factory, setup.admin, "nobody", "admin")
    with pytest.raises(NotFoundError, match="No user"):
        users.grant_role(uow_factory, setup.admin, "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f", "admin")
    assert store_snapshot(uow_factory) == before


def test_the_last_admin_cannot_revoke_their_own_admin_role(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(PermissionDeniedError, match="only active administrator"):
        users.revoke_role(uow_factory, setup.admin, setup.admin.user_id, "admin")
    assert store_snapshot(uow_factory) == before
    # With a second admin (a NULL is_active counts as active) it is allowed.
    users.grant_role(uow_factory, setup.admin, setup.plain.user_id, "admin")
    assert users.revoke_role(uow_factory, setup.admin, setup.admin.user_id, "admin").roles == []


def test_an_inactive_second_admin_does_not_count(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    with seeding(uow_factory) as session:
        make_admin(session, is_active=False)
    with pytest.raises(PermissionDeniedError, match="only active administrator"):
        users.revoke_role(uow_factory, setup.admin, setup.admin.user_id, Role.ADMIN.value)


def test_deactivate_and_reactivate(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    off = users.set_user_active(uow_factory, setup.admin, setup.doctor.user_id, False)
    assert off.is_active is False
    with uow_factory() as uow:
        assert uow.session.get_one(User, setup.doctor.user_id).is_active is False
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        studies.list_studies(uow_factory, setup.doctor)
    on = users.set_user_active(uow_factory, setup.admin, setup.doctor.user_id, True)
    assert on.is_active is True
    assert studies.list_studies(uow_factory, setup.doctor).total == 0


def test_an_admin_cannot_deactivate_themselves(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(PermissionDeniedError, match="your own account"):
        users.set_user_active(uow_factory, setup.admin, setup.admin.user_id, False)
    assert store_snapshot(uow_factory) == before
