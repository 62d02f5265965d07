"""Who is acting on this store and how: what ``iamedic whoami`` and the window show."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

Mode = Literal["local", "signed in"]
Online = Literal["online", "offline", "not checked"]


class SessionInfo(BaseModel):
    """The acting user, their rights, and the state of their sign-in.

    ``online`` says whether the session was confirmed with the identity provider just now
    ("online"), could not be ("offline", working on the last confirmation), or was not due
    ("not checked"); it is None in local mode, as is ``valid_until`` (the end of offline work).
    """

    model_config = ConfigDict(frozen=True)

    email: str
    name: str
    roles: list[str]
    doctor_status: str | None
    is_active: bool
    mode: Mode
    online: Online | None
    valid_until: dt.datetime | None
