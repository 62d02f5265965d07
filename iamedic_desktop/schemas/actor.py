"""The acting user every service call runs as."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict


class Actor(BaseModel):
    """Who is acting: services re-read roles and approval from the store on every check."""

    model_config = ConfigDict(frozen=True)

    user_id: uuid.UUID
    email: str
    name: str
