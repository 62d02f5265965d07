"""A real small disk for full-disk tests: a tmpfs of a given size, and a filler file.

The tests that need it skip where mounting is not permitted (a container without the right).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PAGE = 4096


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """``folder`` (made if needed) as a tmpfs of ``size`` ("6m", "16m"); unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def free_bytes(disk: Path) -> int:
    """The disk's free space."""
    return shutil.disk_usage(disk).free


def fill(disk: Path, leave: int) -> Path:
    """Take the disk's free space down to about ``leave`` bytes with a filler file."""
    filler = disk / "filler"
    with filler.open("ab") as out:
        out.write(b"\0" * max(0, free_bytes(disk) - leave))
    return filler
