"""Test connection against the real PostgreSQL: what is there, and a clear refusal when not."""

from __future__ import annotations

import socket
from pathlib import Path

import keyring
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.services.connection_check import check_connection
from tests.support.keyring_file import FileKeyring

pytestmark = pytest.mark.postgres


def _no_password(url: str) -> str:
    return make_url(url).set(password=None).render_as_string(hide_password=False)


def test_an_empty_database_is_reachable_without_iamedic_tables(pg_database: str) -> None:
    report = check_connection(_no_password(pg_database))

    assert report.reachable
    assert report.server_version[:2].isdigit()
    assert not report.tables_present
    assert report.workstation_revision is None
    assert not report.encrypted  # the test server speaks plain TCP on 127.0.0.1
    text = report.summary()
    assert "Reachable" in text and "PostgreSQL" in text
    assert "NOT encrypted" in text and "missing" in text


def test_an_upgraded_database_has_its_tables_and_the_workstation_schema(pg_database: str) -> None:
    engine = create_engine(pg_database)
    upgrade_central(engine)
    engine.dispose()

    report = check_connection(_no_password(pg_database))

    assert report.reachable and report.tables_present
    assert report.workstation_revision == report.workstation_head
    assert "up to date" in report.summary()


def test_a_closed_port_is_not_reachable_and_says_why() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    report = check_connection(f"postgresql://postgres@127.0.0.1:{port}/iamedic")

    assert not report.reachable
    assert report.summary().startswith(f"Not reachable: 127.0.0.1:{port}/iamedic.")
    assert "refused" in report.reason.lower()


class _RecordingKeyring(FileKeyring):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.asked: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append((service, username))
        return super().get_password(service, username)


def test_the_keyring_password_is_used_and_never_reported(pg_database: str, tmp_path: Path) -> None:
    secret = "s3cret-never-shown"
    ring = _RecordingKeyring(tmp_path / "keyring.json")
    ring.set_password("iamedic-central-db", "nobody", secret)
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        url = _no_password(pg_database).replace("postgres@", "nobody@")
        report = check_connection(url, keyring_service="iamedic-central-db")
    finally:
        keyring.set_keyring(previous)

    assert ring.asked == [("iamedic-central-db", "nobody")]
    assert not report.reachable  # the server knows no such user
    assert "nobody" in report.reason
    assert secret not in report.summary()
