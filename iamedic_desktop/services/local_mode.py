"""Local mode: a store never connected to a central database acts as one local clinician.

At first start the store gets its identity (a device id) and one user who is an admin and an
approved doctor, so the embedded default works at once without sign-in.

Once a real user has signed in on the store, the local clinician is deactivated and acts no
more (``services/sessions.py``). It exists on this store only: the sync must never push it, its
roles or its profile (see ``local_user_id``); its studies are pushed once a signed-in user has
taken them (``services/identity.py``).
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.models import DoctorProfile, DoctorStatus, LocalIdentity, Role, User, UserRole
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

IDENTITY_ROW = 1


def local_user_id(session: Session) -> uuid.UUID | None:
    """The local-mode clinician of this store.

    Sync: the ``users`` row with this id, and its ``user_roles`` and ``doctor_profiles`` rows,
    are local-only and must be skipped when pushing the outbox; so must studies still owned by
    it (local-mode work nobody has taken yet).
    """
    identity = session.get(LocalIdentity, IDENTITY_ROW)
    return identity.local_user_id if identity is not None else None


def ensure_local_user(uow_factory: UnitOfWorkFactory, settings: Settings) -> Actor:
    """The store's local user, created with its roles and approved profile on first start."""
    with uow_factory() as uow:
        session = uow.session
        identity = session.get(LocalIdentity, IDENTITY_ROW)
        if identity is None:
            identity = LocalIdentity(id=IDENTITY_ROW)
            session.add(identity)
            session.flush()
        user = session.get(User, identity.local_user_id) if identity.local_user_id else None
        if user is None:
            user = session.scalars(
                select(User).where(User.email == settings.local_user_email)
            ).one_or_none()
        if user is None:
            user = User(
                email=settings.local_user_email,
                name=settings.local_user_name,
                google_id=f"local:{identity.device_id}",
                is_active=True,
            )
            session.add(user)
            session.flush()
            session.add_all(
                [
                    UserRole(user_id=user.id, role=Role.ADMIN.value),
                    UserRole(user_id=user.id, role=Role.DOCTOR.value),
                    DoctorProfile(
                        user_id=user.id,
                        matriculation_id=f"LOCAL-{identity.device_id.hex[:12].upper()}",
                        legal_name=settings.local_user_name,
                        specialization="Local workstation",
                        status=DoctorStatus.APPROVED.value,
                    ),
                ]
            )
            log.info("🔧 Local mode: created the local user %s", user.email)
        identity.local_user_id = user.id
        actor = Actor(user_id=user.id, email=user.email, name=user.name)
        uow.commit()
    return actor
