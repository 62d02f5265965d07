"""DTOs of an import (what came in, what was already there, what was refused and why) and of
start-up maintenance."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from iamedic_desktop.schemas.media import MediaDTO


class Refusal(BaseModel):
    """A path that was not imported, with the reason in a clinician's words."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str


class Duplicate(BaseModel):
    """A file whose content the study already holds, and the media row that holds it."""

    model_config = ConfigDict(frozen=True)

    path: str
    existing: MediaDTO


class ImportReport(BaseModel):
    """The outcome of ``import_paths``: every path given ends up in exactly one list.

    ``skipped`` holds what a folder walk passes over on purpose (hidden files, links to
    folders); ``not_reached`` the files left when the import was cancelled.
    """

    model_config = ConfigDict(frozen=True)

    study_id: uuid.UUID
    study_alias: str
    imported: list[MediaDTO] = Field(default_factory=list)
    duplicates: list[Duplicate] = Field(default_factory=list)
    refused: list[Refusal] = Field(default_factory=list)
    skipped: list[Refusal] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    cancelled: bool = False
    not_reached: list[str] = Field(default_factory=list)


class MaintenanceReport(BaseModel):
    """What start-up maintenance did to the media store and the media rows.

    ``moved_orphans`` are the keys of stored files no row names, moved to the orphans folder;
    ``missing`` lists every media row whose file is not in the store, or not the recorded one
    (``failed``); ``newly_failed`` how many of them were marked at this start, ``restored``
    how many failed rows got their file back. ``files_checked`` is False when another process
    was writing media, so leftovers were left for a later start.
    """

    model_config = ConfigDict(frozen=True)

    removed_partials: list[str] = Field(default_factory=list)
    moved_orphans: list[str] = Field(default_factory=list)
    missing: list[MediaDTO] = Field(default_factory=list)
    newly_failed: int = 0
    restored: int = 0
    files_checked: bool = True
