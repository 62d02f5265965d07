"""The PySide6 window; the only layer that imports Qt. It does no I/O on the UI thread."""
