"""Which frame classifier counts: the one place that answers "is a model configured?".

The study browser's statuses ("AI pending" or not) and the media list's AI state follow it.
Until the AI features read MLflow's registry, the model version in use is the
``classifier_model`` setting; with none, nothing on this workstation will ever score an item,
so nothing is shown as waiting for the AI.
"""

from __future__ import annotations

import enum

from iamedic_desktop.core.settings import Settings, get_settings


class _Configured(enum.Enum):
    MODEL = "configured"


CONFIGURED_MODEL = _Configured.MODEL
"""A query's default model version: the classifier this workstation is configured with."""

ModelChoice = str | None | _Configured


def current_classifier_version(settings: Settings | None = None) -> str | None:
    """The classifier's model version (``<name> - <version>``) whose scores count, or None."""
    return (settings or get_settings()).classifier_model


def resolve_model_version(choice: ModelChoice) -> str | None:
    """``choice`` as a model version: ``CONFIGURED_MODEL`` is the configured one (or None)."""
    if isinstance(choice, _Configured):
        return current_classifier_version()
    return choice
