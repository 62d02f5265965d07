"""DTO pieces shared by every service: one page of a longer list."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, the total count without paging, and where it starts."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    total: int
    offset: int
    limit: int
