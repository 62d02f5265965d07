"""DTOs of fetching media files from central storage: what came, what was already here, what
was refused and why."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from iamedic_desktop.schemas.media import MediaDTO


class FetchRefusal(BaseModel):
    """A media whose file was not fetched, with the reason in a clinician's words."""

    model_config = ConfigDict(frozen=True)

    media: MediaDTO
    reason: str


class FetchReport(BaseModel):
    """The outcome of ``fetch_media``: every media asked for ends up in exactly one list.

    ``fetched`` files are now in the media store, verified, with their ``media_files`` record;
    ``already_local`` were there before; ``refused`` were not kept (a damaged central copy, a
    file missing centrally, an unreachable database); ``not_reached`` were left when the fetch
    was cancelled. ``warnings`` name fetched files that cannot be shown (kept all the same: they
    are the central copy). ``fetched_bytes`` counts what was written.
    """

    model_config = ConfigDict(frozen=True)

    fetched: list[MediaDTO] = Field(default_factory=list)
    already_local: list[MediaDTO] = Field(default_factory=list)
    refused: list[FetchRefusal] = Field(default_factory=list)
    not_reached: list[uuid.UUID] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    fetched_bytes: int = 0
    cancelled: bool = False
