"""DTOs of doctor registrations and of the admin's decisions on them."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict

from iamedic_desktop.schemas.users import AdminUserDTO


class DoctorProfileDTO(BaseModel):
    """A doctor's registration, with the e-mail and name of the user it belongs to."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    matriculation_id: str
    legal_name: str
    specialization: str
    status: str
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ProfileDecisionDTO(BaseModel):
    """An approval or denial: the profile, the user's row after it, and what happened in words.

    ``changed`` is false when the store was left as it was (approving an approved profile
    without a new note, denying a denied one).
    """

    model_config = ConfigDict(frozen=True)

    profile: DoctorProfileDTO
    user: AdminUserDTO
    role_granted: bool
    changed: bool
    message: str
