"""What the CLI prints: aligned tables for people, ``--json`` for programs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Column = tuple[str, Callable[[Any], object]]


def as_jsonable(value: Any) -> Any:
    """Pydantic models, dataclasses and named tuples as plain JSON values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.loads(json.dumps(dataclasses.asdict(value), default=str))
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return json.loads(json.dumps(value._asdict(), default=str))
    return value


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    json.dump(as_jsonable(value), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cell(value: object) -> str:
    """How one value reads in a table."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell(item) for item in value) or "-"
    return str(getattr(value, "value", value))


def print_table(rows: Iterable[Any], columns: Sequence[Column]) -> None:
    """An aligned table with a header line; numbers are right-aligned."""
    header = [title for title, _ in columns]
    values = [[getter(row) for _, getter in columns] for row in rows]
    texts = [[cell(value) for value in row] for row in values]
    widths = [max([len(title)] + [len(row[i]) for row in texts]) for i, title in enumerate(header)]
    numeric = [
        bool(values)
        and all(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in values)
        for i in range(len(columns))
    ]

    def line(parts: Sequence[str]) -> str:
        padded = [
            part.rjust(width) if right else part.ljust(width)
            for part, width, right in zip(parts, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    print(line(header))
    for row in texts:
        print(line(row))


def print_fields(pairs: Sequence[tuple[str, object]]) -> None:
    """A two-column table of labelled values (one object, or a status)."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        print(f"{label.ljust(width)}  {cell(value)}")


def print_page(page: Any, columns: Sequence[Column], *, as_json: bool) -> None:
    """One page of a listing: JSON, or a table and which slice of the whole it shows."""
    if as_json:
        print_json(page)
        return
    shown = len(page.items)
    if shown:
        print_table(page.items, columns)
    if page.total == 0:
        print("(none)")
    elif shown == 0:
        print(f"(nothing at offset {page.offset}; {page.total} in all)")
    else:
        print(f"({page.offset + 1}–{page.offset + shown} of {page.total})")
