"""The steps of a sign-in after the browser, shared by ``iamedic login`` and the window.

The window runs each function as one operation on its database thread; the command line calls
them in turn. Each opens what it needs and closes it again: none keeps a store open.

Threading: blocking (the store, and the central database when configured): off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from iamedic_desktop.core.errors import CentralDatabaseError, PermissionDeniedError
from iamedic_desktop.services.admin_target import admin_target
from iamedic_desktop.services.sessions import (
    SessionState,
    answer_local_studies,
    complete_sign_in,
    pending_local_studies,
    session_info,
    sign_out,
)

if TYPE_CHECKING:
    from iamedic_desktop.auth.oauth import SignedIn
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.actor import Actor
    from iamedic_desktop.schemas.doctor_profiles import DoctorProfileDTO
    from iamedic_desktop.schemas.session import SessionInfo
    from iamedic_desktop.services.local_store import LocalStore

T = TypeVar("T")


@dataclass(frozen=True)
class SignInOutcome:
    """A finished sign-in: who acts now, and the local-mode studies still to settle."""

    state: SessionState
    local_studies: int
    answered_before: bool

    @property
    def ask_about_local_studies(self) -> bool:
        """Whether to ask "make them yours?" now: there are some, and nobody answered yet."""
        return self.local_studies > 0 and not self.answered_before


@dataclass(frozen=True)
class Account:
    """The acting user as the window shows them: rights, sign-in state, own registration."""

    info: SessionInfo
    profile: DoctorProfileDTO | None
    problem: str | None = None  # why the registration cannot be read (a deactivated account)

    @property
    def is_doctor(self) -> bool:
        """Whether doctor work is open: local mode, or the doctor role and an approved profile."""
        if self.info.mode == "local":
            return True
        approved = self.profile is not None and self.profile.status == "approved"
        return approved and "doctor" in self.info.roles


def local_studies_phrase(count: int) -> str:
    """ "3 studies were made in local mode" (the question and the notices say it alike)."""
    return f"{count} stud{'y was' if count == 1 else 'ies were'} made in local mode"


def _with_store(settings: Settings, work: Callable[[LocalStore], T]) -> T:
    # Sign-in and sign-out act on the store whoever is (or was) signed in: no session check.
    from iamedic_desktop.services.local_store import open_local_store

    store = open_local_store(settings, check_sign_in=False)
    try:
        return work(store)
    finally:
        store.close()


def finish_sign_in(settings: Settings, signed_in: SignedIn) -> SignInOutcome:
    """Make the verified identity the store's user; count the local-mode studies left."""

    def work(store: LocalStore) -> SignInOutcome:
        state = complete_sign_in(store.uow, settings, signed_in)
        count, answer = pending_local_studies(store.uow)
        return SignInOutcome(state, count, answered_before=answer is not None)

    return _with_store(settings, work)


def settle_local_studies(settings: Settings, actor: Actor, *, take: bool) -> int:
    """Record the answer to "make the local-mode studies yours?"; the studies moved."""
    return _with_store(settings, lambda store: answer_local_studies(store.uow, actor, take=take))


def sign_out_of_store(settings: Settings) -> str | None:
    """End the store's session and clear its secrets; the e-mail signed out, or None."""
    return _with_store(settings, lambda store: sign_out(store.uow, settings))


def account_of(store: LocalStore) -> Account:
    """Who acts on the opened ``store``, with their doctor registration (None: not yet).

    The registration is read where the CLI's ``doctors status`` reads it: the central database
    when it is configured and reachable, else this store.
    """
    from iamedic_desktop.services.doctor_profiles import get_own_doctor_profile

    assert store.session is not None, "opened with the sign-in checked"
    info = session_info(store.uow, store.session)
    if not store.session.signed_in:
        return Account(info, None)  # local mode: the local clinician is an approved doctor
    try:
        with admin_target(store.settings, store.uow, store.actor) as target:
            profile = get_own_doctor_profile(target.uow, target.actor)
    except (PermissionDeniedError, CentralDatabaseError) as exc:
        return Account(info, None, problem=exc.message)
    return Account(info, profile)


def submit_registration(
    store: LocalStore, *, update: bool, matriculation_id: str, legal_name: str, specialization: str
) -> DoctorProfileDTO:
    """Register the acting user as a doctor (or edit a pending registration), as the CLI does."""
    from iamedic_desktop.services.doctor_profiles import (
        register_doctor_profile,
        update_doctor_profile,
    )

    submit = update_doctor_profile if update else register_doctor_profile
    with admin_target(store.settings, store.uow, store.actor) as target:
        return submit(
            target.uow,
            target.actor,
            matriculation_id=matriculation_id,
            legal_name=legal_name,
            specialization=specialization,
        )
