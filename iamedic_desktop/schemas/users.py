"""DTOs of users and their roles."""

from __future__ import annotations

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
