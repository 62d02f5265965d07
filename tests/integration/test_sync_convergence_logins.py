"""Convergence on per-user logins: the scenario of ``test_sync_convergence.py`` (two
workstation processes and the web, seeded random offline edits, every conflict kept), with the
central database owned by a web-like login and each workstation process connecting with its own
enrolled login. Row-level security and the audit trigger are therefore on for every workstation
write; the web's own writes go through its owner login as on a real deployment.

Each process gets its login and password in ``IAMEDIC_CENTRAL_URL`` (no keyring in the child).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from iamedic_desktop.core.migrate import upgrade_central
from tests.integration.test_sync_convergence import (
    EMAIL,
    SEEDS,
    World,
    play_and_check,
)
from tests.support.central_logins import Central, enroll, grant, web_owned_central
from tests.support.cli_workstation import CliWorkstation, cli_workstation
from tests.support.sync_world import add_doctor

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "a-long-test-password-0123"


@pytest.fixture
def web_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "web_media"
    folder.mkdir()
    return folder


@pytest.fixture
def central(pg_server: str) -> Iterator[Central]:
    """A web-owned central database whose files live in the web's media folder."""
    with web_owned_central(pg_server, createrole=False) as central:
        admin = create_engine(central.superuser_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"ALTER ROLE {central.web_login} CREATEROLE"))
        admin.dispose()
        upgrade_central(central.engine, file_storage="directory")
        yield central


def _own_login_workstation(
    central: Central, name: str, folder: Path, web_folder: Path
) -> tuple[CliWorkstation, str]:
    """A command-line workstation whose processes connect with a login of their own."""
    login = enroll(central, grant(central, EMAIL), PASSWORD)
    url = central.url_as(login).set(password=PASSWORD).render_as_string(hide_password=False)
    return cli_workstation(name, folder, url, EMAIL, web_folder), login


def _writers(central: Central, table: str) -> set[str]:
    with central.engine.connect() as conn:
        query = "SELECT DISTINCT login FROM workstation.audit_log WHERE table_name = :t"
        return set(conn.execute(text(query), {"t": table}).scalars())


@pytest.mark.parametrize("seed", SEEDS)
def test_workstation_processes_on_their_own_logins_and_the_web_converge(
    central: Central, tmp_path: Path, web_folder: Path, seed: int
) -> None:
    rnd = random.Random(seed)
    web = central.engine
    doctor = add_doctor(web, EMAIL)
    ws: dict[str, CliWorkstation] = {}
    logins: dict[str, str] = {}
    for name in "AB":
        ws[name], logins[name] = _own_login_workstation(central, name, tmp_path / name, web_folder)
    assert logins["A"] != logins["B"] and central.web_login not in logins.values()
    world = World(web, web_folder, ws)
    play_and_check(world, web, doctor, tmp_path, web_folder, rnd)
    # Every workstation write was made, and audited, under that workstation's own login.
    assert _writers(central, "studies") <= set(logins.values())
    assert set(logins.values()) <= _writers(central, "media") | _writers(central, "studies")
