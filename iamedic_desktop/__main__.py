"""``python -m iamedic_desktop`` and the PyInstaller bundle's entry: the ``iamedic`` command."""

from __future__ import annotations

import sys

from iamedic_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
