"""User and role services on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from iamedic_desktop.models import DoctorProfile, DoctorStatus, Role, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.users import AdminUserDTO
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
    assert (granted.user.roles, granted.changed) == (["admin"], True)
    assert granted.message == "zed@example.org was given the admin role."
    before = store_snapshot(uow_factory)
    again = users.grant_role(uow_factory, setup.admin, str(setup.plain.user_id), "admin")
    assert (again.user.roles, again.changed) == (["admin"], False)
    assert again.message == "zed@example.org already holds the admin role."
    assert store_snapshot(uow_factory) == before  # already held: not an error, no change
    revoked = users.revoke_role(uow_factory, setup.admin, "DOC@example.org", "doctor")
    assert (revoked.user.roles, revoked.changed) == ([], True)
    assert revoked.message == "The doctor role was taken from doc@example.org."
    assert _roles(uow_factory, setup.doctor) == []
    with pytest.raises(PermissionDeniedError, match="doctor role"):
        studies.list_studies(uow_factory, setup.doctor)
    unchanged = users.revoke_role(uow_factory, setup.admin, setup.doctor.user_id, "doctor")
    assert (unchanged.user.roles, unchanged.changed) == ([], False)
    assert unchanged.message == "doc@example.org does not hold the doctor role."


def test_bad_role_or_user_changes_nothing(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="not a role"):
        users.grant_role(uow_factory, setup.admin, setup.plain.user_id, "superuser")
    with pytest.raises(InvalidInputError, match="not a valid user id"):
        users.grant_role(uow_factory, setup.admin, "nobody", "admin")
    with pytest.raises(NotFoundError, match="No user has the e-mail nobody@example"):
        users.grant_role(uow_factory, setup.admin, "nobody@example.org", "admin")
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
    assert (
        users.revoke_role(uow_factory, setup.admin, setup.admin.user_id, "admin").user.roles == []
    )


def test_an_inactive_second_admin_does_not_count(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    with seeding(uow_factory) as session:
        make_admin(session, is_active=False)
    with pytest.raises(PermissionDeniedError, match="only active administrator"):
        users.revoke_role(uow_factory, setup.admin, setup.admin.user_id, Role.ADMIN.value)


def test_deactivate_and_reactivate(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    off = users.set_user_active(uow_factory, setup.admin, "doc@example.org", False)
    assert (off.user.is_active, off.changed) == (False, True)
    assert off.message == "The account doc@example.org was deactivated."
    again = users.set_user_active(uow_factory, setup.admin, setup.doctor.user_id, False)
    assert (again.changed, again.message) == (False, "doc@example.org was already deactivated.")
    with uow_factory() as uow:
        assert uow.session.get_one(User, setup.doctor.user_id).is_active is False
    with pytest.raises(PermissionDeniedError, match="deactivated"):
        studies.list_studies(uow_factory, setup.doctor)
    on = users.set_user_active(uow_factory, setup.admin, setup.doctor.user_id, True)
    assert (on.user.is_active, on.changed) == (True, True)
    assert studies.list_studies(uow_factory, setup.doctor).total == 0


def test_an_admin_cannot_deactivate_themselves(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(PermissionDeniedError, match="your own account"):
        users.set_user_active(uow_factory, setup.admin, setup.admin.user_id, False)
    assert store_snapshot(uow_factory) == before


@pytest.fixture
def crowd(uow_factory: UnitOfWorkFactory, setup: Setup) -> dict[str, Actor]:
    """Beside the setup's three: two pending applicants, a denied one, an inactive admin."""
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    made: dict[str, Actor] = {}
    with seeding(uow_factory) as session:
        for key, email, name, kwargs in [
            ("pending_b", "bea@example.org", "Bea", {"doctor_status": "pending"}),
            ("pending_a", "abe@example.org", "Abe", {"doctor_status": "pending"}),
            ("denied", "dan@example.org", "Dan", {"doctor_status": "denied"}),
            ("old_admin", "old@example.org", "Olga", {"roles": ("admin",), "is_active": False}),
        ]:
            user = make_user(session, email=email, name=name, **kwargs)
            made[key] = actor_for(user)
        # Creation times to sort on, oldest first in the order the users are named here.
        order = ["admin@example.org", "old@example.org", "dan@example.org", "zed@example.org"]
        order += ["bea@example.org", "doc@example.org", "abe@example.org"]
        for minutes, email in enumerate(order):
            session.scalars(select(User).where(User.email == email)).one().created_at = (
                base + dt.timedelta(minutes=minutes)
            )
        profile = session.scalars(
            select(DoctorProfile).where(DoctorProfile.user_id == made["denied"].user_id)
        ).one()
        profile.notes = "Licence not found"
    return made


def _emails(page: Page[AdminUserDTO]) -> list[str]:
    return [u.email for u in page.items]


def test_admin_rows_carry_the_registration(
    uow_factory: UnitOfWorkFactory, setup: Setup, crowd: dict[str, Actor]
) -> None:
    page = users.list_users(uow_factory, setup.admin, search="dan@")
    (row,) = page.items
    assert (row.name, row.doctor_status, row.notes, row.legal_name) == (
        "Dan",
        "denied",
        "Licence not found",
        "Dr. Dan",
    )
    assert row.matriculation_id is not None and row.matriculation_id.startswith("MAT-")
    assert row.profile_id is not None
    assert row.created_at == dt.datetime(2026, 1, 1, 0, 2, tzinfo=dt.UTC)
    (plain,) = users.list_users(uow_factory, setup.admin, search="zed").items
    assert (plain.profile_id, plain.matriculation_id, plain.notes) == (None, None, None)


def test_pending_registrations_come_first_then_the_sort(
    uow_factory: UnitOfWorkFactory, setup: Setup, crowd: dict[str, Actor]
) -> None:
    rest = ["admin@example.org", "dan@example.org", "doc@example.org", "old@example.org"]
    by_email = users.list_users(uow_factory, setup.admin)
    assert _emails(by_email) == ["abe@example.org", "bea@example.org", *rest, "zed@example.org"]
    by_name = users.list_users(uow_factory, setup.admin, sort="name")
    # Abe, Bea pending; then Ada Admin, Dan, Dora Doctor, Olga, Zed.
    assert _emails(by_name)[:2] == ["abe@example.org", "bea@example.org"]
    assert _emails(by_name)[2:] == [*rest[:3], "old@example.org", "zed@example.org"]
    newest = users.list_users(uow_factory, setup.admin, sort="created", descending=True)
    assert _emails(newest) == [
        "abe@example.org",
        "bea@example.org",
        "doc@example.org",
        "zed@example.org",
        "dan@example.org",
        "old@example.org",
        "admin@example.org",
    ]
    plain = users.list_users(uow_factory, setup.admin, sort="created", pending_first=False)
    assert _emails(plain)[:3] == ["admin@example.org", "old@example.org", "dan@example.org"]
    by_status = users.list_users(uow_factory, setup.admin, sort="status", pending_first=False)
    assert [u.doctor_status for u in by_status.items] == [
        "pending",
        "pending",
        "approved",
        "denied",
        None,
        None,
        None,
    ]
    page = users.list_users(uow_factory, setup.admin, offset=1, limit=2)
    assert (_emails(page), page.total) == (["bea@example.org", "admin@example.org"], 7)


def test_filters_combine(
    uow_factory: UnitOfWorkFactory, setup: Setup, crowd: dict[str, Actor]
) -> None:
    def emails(**filters: object) -> list[str]:
        return sorted(_emails(users.list_users(uow_factory, setup.admin, **filters)))

    assert emails(role="admin") == ["admin@example.org", "old@example.org"]
    assert emails(role="admin", active=True) == ["admin@example.org"]
    assert emails(active=False) == ["old@example.org"]
    assert emails(status="pending") == ["abe@example.org", "bea@example.org"]
    assert emails(status="none") == ["admin@example.org", "old@example.org", "zed@example.org"]
    assert emails(role="doctor", status="approved") == ["doc@example.org"]
    assert emails(search="Dr. Bea") == ["bea@example.org"]  # the legal name counts
    assert users.list_users(uow_factory, setup.admin, role="doctor", status="denied").total == 0


@pytest.mark.parametrize(
    ("filters", "complaint"),
    [
        ({"sort": "age"}, "'age' is not a way to sort users"),
        ({"status": "waiting"}, "not a registration status"),
        ({"role": "root"}, "not a role"),
        ({"active": "yes"}, "Active is true or false"),
    ],
)
def test_a_bad_filter_is_refused(
    uow_factory: UnitOfWorkFactory, setup: Setup, filters: dict[str, object], complaint: str
) -> None:
    with pytest.raises(InvalidInputError, match=complaint):
        users.list_users(uow_factory, setup.admin, **filters)  # type: ignore[arg-type]


def test_get_user_by_email_is_an_admin_row(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    row = users.get_user(uow_factory, setup.admin, " Doc@Example.org ")
    assert (row.id, row.legal_name, row.doctor_status) == (
        setup.doctor.user_id,
        "Dr. Dora Doctor",
        "approved",
    )
