"""Why the window's sync is off, in a few words, from the real refusals of the real checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamedic_desktop.auth.secrets import central_url_setting
from iamedic_desktop.core.errors import AuthenticationError, CentralDatabaseError, SyncError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.sync.central_files import check_settings
from iamedic_desktop.ui.sync_stopper import refusal

pytestmark = pytest.mark.gui


def _raised(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except Exception as exc:  # the refusal under test
        return exc
    raise AssertionError("no refusal")


def test_each_refusal_has_its_short_reason_and_offline_is_no_refusal(tmp_path: Path) -> None:
    no_central = _raised(lambda: central_url_setting(Settings(central_url=None)))
    assert refusal(no_central) == "no central database"
    storage = _raised(lambda: check_settings("database", tmp_path))
    assert refusal(storage) == "file storage"
    folder = _raised(lambda: check_settings("directory", None))
    assert refusal(folder) == "file storage"
    # The messages of services/sync_service.py, which needs a central database to raise them.
    local = AuthenticationError("Sign in before syncing: work done in local mode is pushed ...")
    assert refusal(local) == "local mode"
    gone = AuthenticationError("The account a@example.org has been deactivated; ask an admin.")
    assert refusal(gone) == "account inactive"
    revoked = AuthenticationError("This workstation's central login was revoked: ask an admin.")
    assert refusal(revoked) == "central login refused"
    stranger = SyncError("The account a@example.org is not in the central database: sign in.")
    assert refusal(stranger) == "account not central"
    assert refusal(CentralDatabaseError("The central database cannot be reached: ...")) is None
    assert refusal(RuntimeError("boom")) == "unexpected error"
