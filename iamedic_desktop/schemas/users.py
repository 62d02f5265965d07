"""DTOs of users and their roles, and of the administration's listing and changes."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict


class UserDTO(BaseModel):
    """A user with their roles and doctor-profile status (``None`` without a profile).

    ``is_active`` is false only when the store says so explicitly (a NULL means active).
    """

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    email: str
    name: str
    is_active: bool
    roles: list[str]
    doctor_status: str | None


class AdminUserDTO(UserDTO):
    """One row of the administration: the user, and their doctor registration if any."""

    created_at: dt.datetime
    profile_id: uuid.UUID | None
    matriculation_id: str | None
    legal_name: str | None
    specialization: str | None
    notes: str | None


class UserChangeDTO(BaseModel):
    """What an admin's action did to a user: the row after it, whether anything changed, why."""

    model_config = ConfigDict(frozen=True)

    user: AdminUserDTO
    changed: bool
    message: str
