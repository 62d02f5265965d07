"""What an export is asked for (kind, format, filters) and what it wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator

ExportKind = Literal["classification", "boxes", "coco", "yolo"]
ExportFormat = Literal["csv", "zip", "json"]

EXPORT_KINDS: tuple[ExportKind, ...] = ("classification", "boxes", "coco", "yolo")
# The formats each kind can be written in, the default first.
FORMATS_OF: dict[ExportKind, tuple[ExportFormat, ...]] = {
    "classification": ("csv", "zip"),
    "boxes": ("csv", "zip"),
    "coco": ("json", "zip"),
    "yolo": ("zip",),
}


class ExportFilters(BaseModel):
    """Which annotations go out: created from ``start`` to ``end`` (both days whole, in UTC).

    None for a bound leaves that side open. Deleted media (a deleted media, its study, or for a
    still its frames row) and hidden boxes stay out unless asked for.
    """

    model_config = ConfigDict(frozen=True)

    start: dt.date | None = None
    end: dt.date | None = None
    include_deleted: bool = False
    include_hidden: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(
                f"The start date {self.start} is after the end date {self.end}: swap them."
            )
        return self


class ExportResult(BaseModel):
    """The file an export wrote, how much it holds, and which store it was read from."""

    model_config = ConfigDict(frozen=True)

    path: Path
    kind: ExportKind
    format: ExportFormat
    rows: int  # CSV rows, or boxes for COCO and YOLO
    media_count: int  # distinct media (images of a training set)
    source: str  # "central database host/db" or "this workstation"
    notes: list[str] = []  # what was left out and why (videos in a training set)
