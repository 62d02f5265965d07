"""``iamedic central grant-access|enroll|revoke-access``: the real command, a real keyring
backend over a file, a real PostgreSQL whose tables a web-like login owns."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import Settings, reset_settings_cache
from iamedic_desktop.core.settings_file import save_settings
from tests.e2e.cli_support import assert_clean_failure, json_of
from tests.e2e.conftest import CliRunner
from tests.support.central_logins import Central, web_owned_central
from tests.support.keyring_file import KEYRING_FILE_VARIABLE, FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (a fixture)
from tests.support.sync_world import add_doctor, sign_in_store

pytestmark = pytest.mark.postgres

SERVICE = "iamedic-central-db"


@pytest.fixture
def central(pg_server: str) -> Iterator[Central]:
    with web_owned_central(pg_server) as central:
        add_doctor(central.engine, "a@example.org")
        yield central


def _web(central: Central) -> dict[str, str]:
    """The environment of a command run with the web's login (IT at a server shell)."""
    return {"IAMEDIC_CENTRAL_URL": central.url.render_as_string(hide_password=False)}


def _workstation(keyring: FileKeyring) -> dict[str, str]:
    """The environment of the user's workstation: its settings file, the file keyring."""
    return {
        "PYTHON_KEYRING_BACKEND": "tests.support.keyring_file.FileKeyring",
        KEYRING_FILE_VARIABLE: str(keyring.path),
    }


def _settings_url() -> str:
    path = Path(os.environ["IAMEDIC_SETTINGS_FILE"])
    return str(tomllib.loads(path.read_text(encoding="utf-8"))["central_url"])


def test_grant_enroll_sync_revoke(
    run_cli: CliRunner, central: Central, file_keyring: FileKeyring
) -> None:
    granted = json_of(
        run_cli("central", "grant-access", "a@example.org", "--json", env=_web(central))
    )
    save_settings({"central_url": central.url.render_as_string(hide_password=False)})
    ws = _workstation(file_keyring)

    enrolled = run_cli("central", "enroll", granted["code"], env=ws)
    assert enrolled.returncode == 0, enrolled.stderr
    assert granted["login"] in enrolled.stdout
    assert granted["code"] not in enrolled.stdout + enrolled.stderr
    assert _settings_url() == central.url_as(granted["login"]).render_as_string()
    password = file_keyring.get_password(SERVICE, granted["login"])
    assert password is not None and len(password) >= 40
    again = run_cli("central", "enroll", granted["code"], env=ws)
    assert_clean_failure(again, "This enrollment code is not valid")

    assert json_of(run_cli("central", "status", "--json", env=ws))["is_current"] is True
    reset_settings_cache()
    sign_in_store(Settings(), "a@example.org")
    synced = run_cli("sync", "--json", env=ws)
    assert synced.returncode == 0, synced.stderr

    revoked = run_cli("central", "revoke-access", "a@example.org", env=_web(central))
    assert revoked.returncode == 0, revoked.stderr
    assert "1 login(s) disabled" in revoked.stdout
    refused = run_cli("sync", env=ws)
    assert_clean_failure(refused, "Your central database access was revoked; ask an administrator")
    assert granted["login"] not in refused.stderr


def test_only_an_administrator_grants_and_an_unknown_user_is_named_as_such(
    run_cli: CliRunner, central: Central, file_keyring: FileKeyring
) -> None:
    code = json_of(run_cli("central", "grant-access", "a@example.org", "--json", env=_web(central)))
    save_settings({"central_url": central.url.render_as_string(hide_password=False)})
    ws = _workstation(file_keyring)
    assert run_cli("central", "enroll", code["code"], env=ws).returncode == 0

    as_doctor = run_cli("central", "grant-access", "a@example.org", env=ws)
    unknown = run_cli("central", "grant-access", "nobody@example.org", env=_web(central))
    wrong = run_cli("central", "enroll", "ABCD-EFAB-CDEF-ABCD-EFAB-CDEF", env=ws)

    assert_clean_failure(as_doctor, "Only an administrator can grant or revoke")
    assert_clean_failure(unknown, "No user has this e-mail address")
    assert_clean_failure(wrong, "This enrollment code is not valid")


def test_the_json_of_an_enrollment_names_the_login_and_the_settings_file(
    run_cli: CliRunner, central: Central, file_keyring: FileKeyring
) -> None:
    code = json_of(run_cli("central", "grant-access", "a@example.org", "--json", env=_web(central)))
    save_settings({"central_url": central.url.render_as_string(hide_password=False)})

    result = json_of(
        run_cli("central", "enroll", code["code"], "--json", env=_workstation(file_keyring))
    )

    assert result["login"] == code["login"]
    assert result["settings_file"] == os.environ["IAMEDIC_SETTINGS_FILE"]
    assert result["overridden_by_environment"] is False
    assert set(result) == {"login", "user_id", "settings_file", "overridden_by_environment"}
    json.dumps(result)  # plain JSON values
