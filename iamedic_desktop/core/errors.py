"""The few domain exceptions every layer raises; messages are written for clinicians."""

from __future__ import annotations


class IamedicError(Exception):
    """Base of every error the workstation reports to a person.

    ``str(error)`` is the message shown in the window, printed by the CLI and logged; low-level
    causes are chained with ``raise ... from exc`` so the log keeps the detail.
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(IamedicError):
    """The request itself is wrong (a bad alias, a box outside the image, a malformed id)."""


class NotFoundError(IamedicError):
    """The thing asked for does not exist, or the acting user may not know that it does."""


class PermissionDeniedError(IamedicError):
    """The acting user lacks the role, the approval or the ownership the operation needs."""


class ConflictError(IamedicError):
    """The request clashes with what is stored (a taken alias, a second box of a class)."""


class StorageError(IamedicError):
    """The local store or the media store could not be read or written."""


class CentralDatabaseError(IamedicError):
    """The central database is unreachable, or is not a database this workstation can serve."""


class AuthenticationError(IamedicError):
    """Sign-in failed or is required (refused by the provider, token invalid, session expired)."""


class SyncError(IamedicError):
    """Syncing with the central database cannot go on (settings disagree, a file is damaged)."""


class ModelError(IamedicError):
    """A model cannot be had or run: the registry or an inference service is unreachable or
    answered wrongly, an artifact is damaged, or no model is configured."""
