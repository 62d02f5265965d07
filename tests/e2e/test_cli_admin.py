"""``iamedic users ...`` and ``iamedic doctors ...`` as an admin and an applicant run them."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import Base, DoctorProfile, User, UserRole
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.e2e.cli_support import json_of
from tests.factories import make_admin, make_user, seeding
from tests.support.idp import running_idp

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
REPO = Path(__file__).resolve().parents[2]
ADMIN_PATHS = [
    ["users", "grant"],
    ["users", "revoke"],
    ["users", "deactivate"],
    ["users", "activate"],
    ["doctors"],
    ["doctors", "pending"],
    ["doctors", "approve"],
    ["doctors", "deny"],
    ["doctors", "register"],
    ["doctors", "update"],
    ["doctors", "status"],
]


def _refused(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("❌ ") and result.stderr.count("\n") == 1, result.stderr
    assert fragment in result.stderr


@pytest.mark.parametrize("path", ADMIN_PATHS, ids=" ".join)
def test_help(run_cli: CliRunner, path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: iamedic {' '.join(path)}")
    if len(path) > 1:
        assert "--json" in result.stdout


@pytest.fixture
def applicants() -> None:
    """Two pending applicants beside the local clinician (an admin and approved doctor)."""
    store = open_local_store(get_settings())
    try:
        with seeding(store.uow) as session:
            make_user(session, email="bea@example.org", name="Bea", doctor_status="pending")
            make_user(session, email="abe@example.org", name="Abe", doctor_status="pending")
    finally:
        store.close()


@pytest.mark.usefixtures("applicants")
def test_review_and_manage_on_this_workstation(run_cli: CliRunner) -> None:
    listing = json_of(run_cli("users", "list", "--json"))
    assert listing["where"] == "this workstation"
    assert [u["email"] for u in listing["items"]] == [
        "abe@example.org",
        "bea@example.org",
        "local@iamedic.invalid",
    ]
    table = run_cli("users", "list", "--status", "pending", "--sort", "name", "--reverse")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert [line.split()[1] for line in lines[1:3]] == ["bea@example.org", "abe@example.org"]
    assert lines[-1] == "Where: this workstation"
    pending = json_of(run_cli("doctors", "pending", "--json"))
    assert [p["email"] for p in pending["items"]] == ["bea@example.org", "abe@example.org"]

    approved = json_of(
        run_cli("doctors", "approve", "BEA@example.org", "--notes", "Welcome", "--json")
    )
    assert (approved["changed"], approved["role_granted"]) == (True, True)
    assert (approved["user"]["roles"], approved["user"]["notes"]) == (["doctor"], "Welcome")
    denied = run_cli("doctors", "deny", "abe@example.org", "--notes", "Unknown licence")
    assert denied.returncode == 0, denied.stderr
    assert denied.stdout.splitlines() == [
        "✅ The registration of abe@example.org was denied.",
        "Where: this workstation",
    ]
    _refused(run_cli("doctors", "approve", "abe@example.org"), "a denial is final")

    granted = json_of(run_cli("users", "grant", "bea@example.org", "admin", "--json"))
    assert (granted["changed"], granted["user"]["roles"]) == (True, ["admin", "doctor"])
    again = run_cli("users", "grant", "bea@example.org", "admin")
    assert again.stdout.splitlines()[0] == "bea@example.org already holds the admin role."
    off = json_of(run_cli("users", "deactivate", "abe@example.org", "--json"))
    assert (off["changed"], off["user"]["is_active"]) == (True, False)
    inactive = json_of(run_cli("users", "list", "--active", "no", "--json"))
    assert [u["email"] for u in inactive["items"]] == ["abe@example.org"]
    assert json_of(run_cli("users", "activate", "abe@example.org", "--json"))["changed"] is True
    revoked = json_of(run_cli("users", "revoke", "bea@example.org", "admin", "--json"))
    assert revoked["user"]["roles"] == ["doctor"]

    _refused(run_cli("users", "revoke", "local@iamedic.invalid", "admin"), "only active admin")
    _refused(run_cli("users", "deactivate", "local@iamedic.invalid"), "your own account")
    _refused(run_cli("users", "grant", "ghost@example.org", "admin"), "No user has the e-mail")
    _refused(run_cli("users", "grant", "bea@example.org", "root"), "'root' is not a role")


def test_own_registration_status(run_cli: CliRunner) -> None:
    status = run_cli("doctors", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0].split() == ["Status", "approved"]
    assert status.stdout.splitlines()[-1].split() == ["Where", "this", "workstation"]
    _refused(
        run_cli(
            "doctors", "register", "--matriculation-id", "M-1", "--legal-name", "A",
            "--specialization", "B",
        ),
        "already registered as a doctor",
    )  # fmt: skip


def test_an_unreachable_central_database_acts_here_and_says_so(run_cli: CliRunner) -> None:
    env = {"IAMEDIC_CENTRAL_URL": "postgresql://clinic@127.0.0.1:9/iamedic"}
    listing = json_of(run_cli("users", "list", "--json", env=env))
    assert listing["where"] == (
        "this workstation (offline: the central database 127.0.0.1:9/iamedic is unreachable)"
    )
    assert listing["total"] == 1


# --- on the central database, as a user signed in through the stand-in provider -----------


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: object, **__: object) -> None:
        return None  # the provider's 302 comes back as an HTTPError with its Location


def _approve_in_browser(url: str) -> None:
    """What the browser does: the provider redirects to the loopback, which is then visited."""
    opener = urllib.request.build_opener(_KeepRedirects)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=10)
    redirect.value.close()
    with urllib.request.urlopen(redirect.value.headers["Location"], timeout=10) as landing:
        assert landing.status == 200


@pytest.fixture
def central(pg_database: str) -> Iterator[UnitOfWorkFactory]:
    """The ten tables, an admin and a pending applicant."""
    engine = create_engine(pg_database)
    Base.metadata.create_all(engine)
    uow = UnitOfWorkFactory(engine)
    with seeding(uow) as session:
        make_admin(session, email="ada@example.org", name="Ada Admin")
        make_user(session, email="ben@example.org", name="Ben", doctor_status="pending")
    yield uow
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_signed_in_admin_acts_on_the_central_database(
    run_cli: CliRunner,
    central: UnitOfWorkFactory,
    pg_database: str,
    tmp_path: Path,
) -> None:
    with running_idp("ada@example.org", "Ada Admin") as idp:
        env = {
            "IAMEDIC_CENTRAL_URL": pg_database,
            "IAMEDIC_OAUTH_ISSUER": idp.issuer_url,
            "IAMEDIC_OAUTH_CLIENT_ID": idp.client_id,
            "IAMEDIC_OAUTH_CLIENT_SECRET": idp.client_secret or "",
            "PYTHON_KEYRING_BACKEND": "tests.support.keyring_file.FileKeyring",
            "IAMEDIC_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
            "PYTHONPATH": str(REPO),
        }
        login = subprocess.Popen(
            [sys.executable, "-m", "iamedic_desktop", "login", "--no-browser"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **env},
        )
        assert login.stdout is not None
        _approve_in_browser(login.stdout.readline().strip())
        out, err = login.communicate(timeout=60)
        assert login.returncode == 0, err
        assert "Signed in as Ada Admin <ada@example.org>" in out

        where = f"central database 127.0.0.1:5432/{make_url(pg_database).database}"
        listing = json_of(run_cli("users", "list", "--json", env=env))
        assert listing["where"] == where
        assert [u["email"] for u in listing["items"]] == ["ben@example.org", "ada@example.org"]
        decision = json_of(run_cli("doctors", "approve", "ben@example.org", "--json", env=env))
        assert (decision["where"], decision["role_granted"]) == (where, True)
        human = run_cli("users", "grant", "ben@example.org", "admin", env=env)
        assert human.stdout.splitlines() == [
            "✅ ben@example.org was given the admin role.",
            f"Where: {where}",
        ]
        _refused(run_cli("users", "deactivate", "ada@example.org", env=env), "your own account")

    with central() as uow:
        ben = uow.session.scalars(select(User).where(User.email == "ben@example.org")).one()
        roles = uow.session.scalars(select(UserRole.role).where(UserRole.user_id == ben.id))
        assert sorted(roles) == ["admin", "doctor"]
        profile = uow.session.scalars(select(DoctorProfile).where(DoctorProfile.user_id == ben.id))
        assert profile.one().status == "approved"
