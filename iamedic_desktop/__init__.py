"""IAMEDIC Workstation: ultrasound review and annotation at the desk."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iamedic-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
