"""Doctor registration and review services on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from iamedic_desktop.models import DoctorProfile, DoctorStatus, Role, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.doctor_profiles import DoctorProfileDTO
from iamedic_desktop.services import doctor_profiles, studies
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_admin, make_user, seeding, store_snapshot


@dataclass(frozen=True)
class Setup:
    """An admin and a freshly signed-in user without a profile."""

    admin: Actor
    applicant: Actor


@pytest.fixture
def setup(uow_factory: UnitOfWorkFactory) -> Setup:
    with seeding(uow_factory) as session:
        admin = make_admin(session)
        applicant = make_user(session, name="Ana Applicant")
    return Setup(actor_for(admin), actor_for(applicant))


def _register(
    uow_factory: UnitOfWorkFactory, actor: Actor, matriculation_id: str = "MP-1001"
) -> DoctorProfileDTO:
    return doctor_profiles.register_doctor_profile(
        uow_factory,
        actor,
        matriculation_id=matriculation_id,
        legal_name=" Ana Maria Applicant ",
        specialization="Fetal medicine",
    )


def _has_doctor_role(uow_factory: UnitOfWorkFactory, actor: Actor) -> bool:
    with uow_factory() as uow:
        query = select(UserRole).where(
            UserRole.user_id == actor.user_id, UserRole.role == Role.DOCTOR.value
        )
        return uow.session.scalars(query).first() is not None


def test_register_is_pending(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    profile = _register(uow_factory, setup.applicant)
    assert (profile.status, profile.legal_name, profile.notes) == (
        DoctorStatus.PENDING.value,
        "Ana Maria Applicant",
        None,
    )
    own = doctor_profiles.get_own_doctor_profile(uow_factory, setup.applicant)
    assert own == profile


def test_one_profile_per_user_and_unique_matriculation(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    _register(uow_factory, setup.applicant)
    with seeding(uow_factory) as session:
        other = actor_for(make_user(session))
    before = store_snapshot(uow_factory)
    with pytest.raises(ConflictError, match="already registered as a doctor"):
        _register(uow_factory, setup.applicant, "MP-2002")
    with pytest.raises(ConflictError, match="'MP-1001' is already registered to another doctor"):
        _register(uow_factory, other, "MP-1001")
    with pytest.raises(InvalidInputError, match="legal name cannot be empty"):
        doctor_profiles.register_doctor_profile(
            uow_factory, other, matriculation_id="X", legal_name=" ", specialization="Y"
        )
    assert store_snapshot(uow_factory) == before


def test_edit_while_pending_keeps_pending_and_clears_notes(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    created = _register(uow_factory, setup.applicant)
    with seeding(uow_factory) as session:
        session.get_one(DoctorProfile, created.id).notes = "Please fix the number"
    edited = doctor_profiles.update_doctor_profile(
        uow_factory,
        setup.applicant,
        matriculation_id="MP-1002",
        legal_name="Ana Applicant",
        specialization="Obstetrics",
    )
    assert (edited.status, edited.notes, edited.matriculation_id) == ("pending", None, "MP-1002")
    assert edited.updated_at > created.updated_at


def test_approve_grants_the_doctor_role_and_opens_doctor_work(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    profile = _register(uow_factory, setup.applicant)
    decision = doctor_profiles.approve_doctor_profile(
        uow_factory, setup.admin, profile.id, notes="Welcome"
    )
    assert (decision.role_granted, decision.changed) == (True, True)
    assert (decision.profile.status, decision.profile.notes) == ("approved", "Welcome")
    assert decision.user.roles == ["doctor"]
    assert (decision.user.doctor_status, decision.user.notes) == ("approved", "Welcome")
    assert "doctor role was granted" in decision.message
    assert studies.create_study(uow_factory, setup.applicant, "First").alias == "First"

    before = store_snapshot(uow_factory)
    again = doctor_profiles.approve_doctor_profile(uow_factory, setup.admin, str(profile.id))
    assert (again.role_granted, again.changed) == (False, False)
    assert "already approved" in again.message
    assert store_snapshot(uow_factory) == before
    with pytest.raises(ConflictError, match="only a pending registration"):
        doctor_profiles.update_doctor_profile(
            uow_factory,
            setup.applicant,
            matriculation_id="MP-9",
            legal_name="A",
            specialization="B",
        )
    assert store_snapshot(uow_factory) == before


def test_approving_a_user_who_already_holds_the_role(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    with seeding(uow_factory) as session:
        holder = actor_for(
            make_user(session, roles=("doctor",), doctor_status=DoctorStatus.PENDING.value)
        )
    [pending] = doctor_profiles.list_doctor_profiles(
        uow_factory, setup.admin, status="pending"
    ).items
    decision = doctor_profiles.approve_doctor_profile(uow_factory, setup.admin, pending.id)
    assert pending.user_id == holder.user_id
    assert decision.role_granted is False
    assert decision.user.roles == ["doctor"]


def test_deny_is_final_and_says_what_happened(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    profile = _register(uow_factory, setup.applicant)
    doctor_profiles.approve_doctor_profile(uow_factory, setup.admin, profile.id)
    denied = doctor_profiles.deny_doctor_profile(
        uow_factory, setup.admin, profile.id, notes="Licence expired"
    )
    assert (denied.profile.status, denied.profile.notes) == ("denied", "Licence expired")
    assert "doctor role was left in place" in denied.message
    assert _has_doctor_role(uow_factory, setup.applicant)
    with pytest.raises(PermissionDeniedError, match="registration was denied"):
        studies.list_studies(uow_factory, setup.applicant)
    before = store_snapshot(uow_factory)
    again = doctor_profiles.deny_doctor_profile(uow_factory, setup.admin, profile.id)
    assert (again.changed, again.profile.notes) == (False, "Licence expired")
    assert again.message.startswith(f"The registration of {setup.applicant.email} was already")
    with pytest.raises(ConflictError, match="a denial is final"):
        doctor_profiles.approve_doctor_profile(uow_factory, setup.admin, profile.id)
    with pytest.raises(ConflictError, match="was denied, and a denial is final"):
        _register(uow_factory, setup.applicant, "MP-3003")
    with pytest.raises(ConflictError, match="already denied"):
        doctor_profiles.update_doctor_profile(
            uow_factory,
            setup.applicant,
            matriculation_id="MP-1",
            legal_name="A",
            specialization="B",
        )
    assert store_snapshot(uow_factory) == before


def test_deny_a_pending_profile(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    profile = _register(uow_factory, setup.applicant)
    denied = doctor_profiles.deny_doctor_profile(uow_factory, setup.admin, profile.id)
    assert (denied.profile.status, denied.profile.notes, denied.role_granted) == (
        "denied",
        None,
        False,
    )
    assert "left in place" not in denied.message
    assert not _has_doctor_role(uow_factory, setup.applicant)


def test_list_profiles_by_status(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    first = _register(uow_factory, setup.applicant)
    with seeding(uow_factory) as session:
        make_user(session, doctor_status=DoctorStatus.DENIED.value)
    every = doctor_profiles.list_doctor_profiles(uow_factory, setup.admin)
    assert every.total == 2
    pending = doctor_profiles.list_doctor_profiles(uow_factory, setup.admin, status="pending")
    assert [p.id for p in pending.items] == [first.id]
    assert pending.items[0].name == "Ana Applicant"
    found = doctor_profiles.list_doctor_profiles(uow_factory, setup.admin, search="mp-100")
    assert [p.id for p in found.items] == [first.id]
    by_legal_name = doctor_profiles.list_doctor_profiles(uow_factory, setup.admin, search="Maria")
    assert [p.id for p in by_legal_name.items] == [first.id]
    with pytest.raises(InvalidInputError, match="not a registration status"):
        doctor_profiles.list_doctor_profiles(uow_factory, setup.admin, status="waiting")
    with pytest.raises(NotFoundError):
        doctor_profiles.approve_doctor_profile(
            uow_factory, setup.admin, "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f"
        )


def test_decisions_name_the_user_by_email_or_id(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    profile = _register(uow_factory, setup.applicant)
    by_email = doctor_profiles.approve_doctor_profile(
        uow_factory, setup.admin, setup.applicant.email.upper(), notes="Checked"
    )
    assert (by_email.profile.id, by_email.changed) == (profile.id, True)
    by_user_id = doctor_profiles.deny_doctor_profile(
        uow_factory, setup.admin, str(setup.applicant.user_id)
    )
    assert (by_user_id.profile.id, by_user_id.profile.status) == (profile.id, "denied")
    with seeding(uow_factory) as session:
        unregistered = make_user(session, email="nobody-registered@example.org")
    before = store_snapshot(uow_factory)
    with pytest.raises(NotFoundError, match="has not registered as a doctor"):
        doctor_profiles.approve_doctor_profile(uow_factory, setup.admin, unregistered.email)
    with pytest.raises(NotFoundError, match="No user has the e-mail"):
        doctor_profiles.deny_doctor_profile(uow_factory, setup.admin, "ghost@example.org")
    assert store_snapshot(uow_factory) == before


def test_a_new_note_on_an_approved_profile_is_a_change(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    profile = _register(uow_factory, setup.applicant)
    doctor_profiles.approve_doctor_profile(uow_factory, setup.admin, profile.id)
    noted = doctor_profiles.approve_doctor_profile(
        uow_factory, setup.admin, profile.id, notes="Renewed licence seen"
    )
    assert (noted.changed, noted.role_granted, noted.profile.notes) == (
        True,
        False,
        "Renewed licence seen",
    )
