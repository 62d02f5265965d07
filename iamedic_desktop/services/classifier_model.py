"""Which frame classifier counts: the one place that answers "is a model configured?".

The study browser's statuses ("AI pending" or not) and the media list's AI state follow it.
The model version in use is, in order: the ``classifier_model`` setting when it pins one; with
HTTP inference, the classifier service's version last seen; else the champion classifier adopted
on this workstation (``iamedic models pull``); else None: nothing here will score an item, so
nothing is shown as waiting for the AI. The study browser asks often, so the small JSON files
behind the answer are read again only when they change (their mtime).
"""

from __future__ import annotations

import enum
import json
import threading
from pathlib import Path

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.ml.model_cache import models_dir


class _Configured(enum.Enum):
    MODEL = "configured"


CONFIGURED_MODEL = _Configured.MODEL
"""A query's default model version: the classifier this workstation is configured with."""

ModelChoice = str | None | _Configured

_lock = threading.Lock()
_read: dict[Path, tuple[tuple[int, int], dict[str, object]]] = {}  # path -> (stamp, content)


def _json(path: Path) -> dict[str, object]:
    """The file's JSON object ({} when missing or unreadable), re-read only once changed."""
    try:
        info = path.stat()
    except OSError:
        return {}
    stamp = (info.st_mtime_ns, info.st_size)
    with _lock:
        known = _read.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        value = {}
    content = value if isinstance(value, dict) else {}
    with _lock:
        _read[path] = (stamp, content)
    return content


def http_record_file(settings: Settings) -> Path:
    """Where the classifier service's last seen model version is kept."""
    return models_dir(settings.data_dir) / "http-classifier.json"


def read_http_version(settings: Settings) -> str | None:
    """The classifier service's model version last seen, for the configured service."""
    record = _json(http_record_file(settings))
    if record.get("url") != settings.classifier_service_url:
        return None
    version = record.get("model_version")
    return version if isinstance(version, str) and version else None


def adopted_classifier_version(settings: Settings) -> str | None:
    """The adopted champion classifier's model version, or None."""
    record = _json(models_dir(settings.data_dir) / "adopted-classifier.json")
    if record.get("name") != settings.classifier_model_name:
        return None
    version = record.get("model_version")
    return version if isinstance(version, str) and version else None


def pinned_classifier(settings: Settings) -> tuple[str, str] | None:
    """The (name, version) the ``classifier_model`` setting pins, when it reads as one."""
    pinned = settings.classifier_model
    if pinned is None or " - " not in pinned:
        return None
    name, _, version = pinned.rpartition(" - ")
    return (name.strip(), version.strip()) if name.strip() and version.strip() else None


def current_classifier_version(settings: Settings | None = None) -> str | None:
    """The classifier's model version (``<name> - <version>``) whose scores count, or None."""
    settings = settings or get_settings()
    if settings.classifier_model is not None:
        return settings.classifier_model
    if settings.inference == "http":
        # What the service stores is what will score the items.
        return read_http_version(settings) or adopted_classifier_version(settings)
    return adopted_classifier_version(settings)


def resolve_model_version(choice: ModelChoice) -> str | None:
    """``choice`` as a model version: ``CONFIGURED_MODEL`` is the configured one (or None)."""
    if isinstance(choice, _Configured):
        return current_classifier_version()
    return choice
