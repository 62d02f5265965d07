"""The files an import takes from the paths it is given: files as named, folders walked.

Folders are walked recursively in name order. Hidden entries (names starting with '.', such as
``.DS_Store``, a ``.Trash`` folder or macOS ``._`` companions) are skipped and reported as
skipped; a link to a file is followed only when the file lies inside the folder being
imported; links to folders are not followed (no loops, no escaping the folder). A path named
explicitly is taken even when hidden or a link. Anything that is not a regular file (a named
pipe, a device, a socket, a link loop, a dangling link, an empty folder) is refused with a
reason; the same file reached twice is taken once.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.schemas.imports import Refusal


def _not_regular(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        what = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "not a regular file"
    return f"This is {what}, not a file that can be imported."


def _resolve_link(path: Path) -> Path:
    """The target of a symbolic link; InvalidInputError for a loop or a dangling link."""
    try:
        return path.resolve(strict=True)
    except FileNotFoundError as exc:
        raise InvalidInputError("This link points to nothing (its target is missing).") from exc
    except RuntimeError as exc:  # how Python 3.11 reports a loop
        raise InvalidInputError("This link leads in a circle (a symbolic link loop).") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # how later Pythons report it
            raise InvalidInputError("This link leads in a circle (a symbolic link loop).") from exc
        raise InvalidInputError(f"This link cannot be followed: {exc.strerror or exc}.") from exc


@dataclass
class _Found:
    files: list[Path] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)

    def add(self, path: Path, real: Path) -> None:
        """Take ``path`` (whose real location is ``real``) unless it was taken already."""
        if real not in self.seen:  # the same file named twice (a file and its folder)
            self.seen.add(real)
            self.files.append(path)

    def refuse(self, path: Path, reason: str) -> None:
        """Record that ``path`` is not imported, and why."""
        self.refused.append(Refusal(path=str(path), reason=reason))


def _walk(found: _Found, folder: Path, root: Path) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        found.refuse(folder, f"The folder cannot be read: {exc.strerror or exc}.")
        return
    visible = [e for e in entries if not e.name.startswith(".")]
    for entry in entries:
        if entry.name.startswith("."):
            found.skipped.append(Refusal(path=entry.path, reason="Hidden, skipped."))
    if not visible:
        found.refuse(folder, "The folder is empty: there is nothing in it to import.")
    for entry in visible:
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                real = _resolve_link(path)
                if not real.is_relative_to(root):
                    raise InvalidInputError(
                        "This link points outside the folder being imported; it was not followed."
                    )
                if real.is_dir():
                    found.skipped.append(
                        Refusal(path=str(path), reason="A link to a folder, not followed.")
                    )
                elif real.is_file():
                    found.add(path, real)
                else:
                    raise InvalidInputError(_not_regular(real.stat().st_mode))
            elif entry.is_dir(follow_symlinks=False):
                _walk(found, path, root)
            elif entry.is_file(follow_symlinks=False):
                found.add(path, path.resolve())
            else:
                raise InvalidInputError(_not_regular(entry.stat(follow_symlinks=False).st_mode))
        except InvalidInputError as exc:
            found.refuse(path, exc.message)
        except OSError as exc:
            found.refuse(path, f"This cannot be read: {exc.strerror or exc}.")


def collect_files(paths: Sequence[Path]) -> tuple[list[Path], list[Refusal], list[Refusal]]:
    """The files to import from ``paths`` (files and folders), what is refused, what skipped."""
    found = _Found()
    for given in paths:
        path = Path(given)
        try:
            if not os.path.lexists(path):
                raise InvalidInputError("There is no such file or folder.")
            real = _resolve_link(path) if path.is_symlink() else path.resolve()
            mode = real.stat().st_mode
            if stat.S_ISDIR(mode):
                _walk(found, path, real)
            elif stat.S_ISREG(mode):
                found.add(path, real)
            else:
                raise InvalidInputError(_not_regular(mode))
        except InvalidInputError as exc:
            found.refuse(path, exc.message)
        except OSError as exc:
            found.refuse(path, f"This cannot be read: {exc.strerror or exc}.")
    return found.files, found.refused, found.skipped
