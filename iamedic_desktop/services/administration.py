"""The administration as the window runs it: one call at a time at the admin's target.

Each call opens the target (``services.admin_target``: the central database when configured and
reachable, else this workstation), runs one listing or one action there, and returns where it
acted with the result, so the window can say where its changes go. Runs on a worker, never on
the UI thread. Without the window's open store, the store is opened for the call, as
``iamedic users`` does (cheap once upgraded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.services import doctor_profiles, users

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.common import Page
    from iamedic_desktop.schemas.doctor_profiles import ProfileDecisionDTO
    from iamedic_desktop.schemas.users import AdminUserDTO, UserChangeDTO
    from iamedic_desktop.services.admin_target import AdminTarget
    from iamedic_desktop.services.local_store import LocalStore

T = TypeVar("T")

APPROVE, DENY = "approve", "deny"
GRANT_ADMIN, REVOKE_ADMIN = "grant_admin", "revoke_admin"
GRANT_DOCTOR, REVOKE_DOCTOR = "grant_doctor", "revoke_doctor"
DEACTIVATE, REACTIVATE = "deactivate", "reactivate"
_ROLE_ACTIONS = {
    GRANT_ADMIN: (users.grant_role, "admin"),
    REVOKE_ADMIN: (users.revoke_role, "admin"),
    GRANT_DOCTOR: (users.grant_role, "doctor"),
    REVOKE_DOCTOR: (users.revoke_role, "doctor"),
}


@contextmanager
def _local_store(settings: Settings, store: LocalStore | None) -> Iterator[LocalStore]:
    if store is not None:
        yield store
        return
    from iamedic_desktop.services.local_store import open_local_store

    opened = open_local_store(settings)
    try:
        yield opened
    finally:
        opened.close()


def at_admin_target(
    settings: Settings, store: LocalStore | None, work: Callable[[AdminTarget], T]
) -> tuple[str, T]:
    """Run ``work`` at the administration's target; returns where it ran, and its result."""
    from iamedic_desktop.services.admin_target import admin_target

    with (
        _local_store(settings, store) as local,
        admin_target(settings, local.uow, local.actor) as target,
    ):
        return target.where, work(target)


def list_page(
    wanted: dict[str, Any], offset: int, limit: int, target: AdminTarget
) -> Page[AdminUserDTO]:
    """One page of ``users.list_users`` with the filters and order in ``wanted``."""
    return users.list_users(target.uow, target.actor, **wanted, offset=offset, limit=limit)


def act(
    action: str, email: str, notes: str | None, target: AdminTarget
) -> UserChangeDTO | ProfileDecisionDTO:
    """One admin action on the user with this e-mail (the same on any store, unlike an id)."""
    uow, actor = target.uow, target.actor
    if action == APPROVE:
        return doctor_profiles.approve_doctor_profile(uow, actor, email, notes=notes)
    if action == DENY:
        return doctor_profiles.deny_doctor_profile(uow, actor, email, notes=notes)
    if action in (DEACTIVATE, REACTIVATE):
        return users.set_user_active(uow, actor, email, action == REACTIVATE)
    if action not in _ROLE_ACTIONS:
        raise InvalidInputError(f"'{action}' is not an administration action.")
    change_role, role = _ROLE_ACTIONS[action]
    return change_role(uow, actor, email, role)
