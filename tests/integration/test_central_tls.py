"""TLS to the central database against a real TLS-only PostgreSQL with its own CA.

The cluster (``tests/support/tls_cluster.py``) has a certificate for ``localhost`` only, so
connecting by ``127.0.0.1`` is the host-name mismatch; ``hostssl`` lines only, so an
unencrypted connection has no pg_hba.conf entry.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import text

from iamedic_desktop.auth.secrets import central_url
from iamedic_desktop.cli import main
from iamedic_desktop.core.database import create_central_engine
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services.connection_check import ConnectionReport, check_connection
from tests.support.keyring_file import FileKeyring
from tests.support.tls_cluster import CERT_USER, PASSWORD, TlsCluster, tls_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsCluster]:
    with tls_cluster(tmp_path_factory.mktemp("tls-client")) as started:
        yield started


def _check(url: str, password: str | None = PASSWORD) -> ConnectionReport:
    report = check_connection(url, password)
    assert PASSWORD not in report.summary() and PASSWORD not in report.reason
    return report


def test_verify_full_with_the_ca_is_encrypted_and_the_server_verified(cluster: TlsCluster) -> None:
    report = _check(cluster.url(sslmode="verify-full", sslrootcert=str(cluster.ca)))

    assert report.reachable and report.encrypted and report.server_verified
    assert report.sslmode == "verify-full"
    assert report.tls_version.startswith("TLSv1.")
    assert report.tls_cipher
    assert not report.client_certificate
    text_ = report.summary()
    assert text_.startswith(f"Reachable: localhost:{cluster.port}/iamedic, PostgreSQL ")
    assert f"Link: encrypted ({report.tls_version}, {report.tls_cipher}) · server verified" in text_


def test_a_wrong_ca_is_refused_and_says_the_certificate_could_not_be_verified(
    cluster: TlsCluster,
) -> None:
    report = _check(cluster.url(sslmode="verify-full", sslrootcert=str(cluster.wrong_ca)))

    assert not report.reachable and report.tls_refused
    assert report.summary().startswith(f"Not connected: localhost:{cluster.port}/iamedic. ")
    assert "could not be verified with the CA file (sslrootcert)" in report.reason


def test_a_host_name_the_certificate_does_not_hold_is_refused_by_the_host_name_check(
    cluster: TlsCluster,
) -> None:
    report = _check(
        cluster.url(host="127.0.0.1", sslmode="verify-full", sslrootcert=str(cluster.ca))
    )

    assert not report.reachable and report.tls_refused
    assert report.reason.startswith("The host-name check failed:")
    assert '"localhost", not for "127.0.0.1"' in report.reason


def test_verify_ca_checks_the_certificate_but_says_the_host_name_was_not(
    cluster: TlsCluster,
) -> None:
    report = _check(cluster.url(host="127.0.0.1", sslmode="verify-ca", sslrootcert=str(cluster.ca)))

    assert report.reachable and report.encrypted and report.server_verified
    assert "host name not checked" in report.summary()
    assert "server verified" not in report.summary()


def test_require_is_encrypted_but_the_server_not_verified(cluster: TlsCluster) -> None:
    report = _check(cluster.url(host="127.0.0.1", sslmode="require"))

    assert report.reachable and report.encrypted and not report.server_verified
    assert "server NOT verified (TLS mode require" in report.summary()


def test_disable_is_refused_by_a_server_that_takes_only_encrypted_connections(
    cluster: TlsCluster,
) -> None:
    report = _check(cluster.url(sslmode="disable"))

    assert not report.reachable and report.tls_refused
    assert "accepts only encrypted connections and the TLS mode is disable" in report.reason


def test_verify_full_without_a_ca_file_asks_for_one(cluster: TlsCluster) -> None:
    report = _check(cluster.url(sslmode="verify-full"))  # HOME holds no ~/.postgresql/root.crt

    assert report.tls_refused
    assert "need the server's CA file" in report.reason


def test_the_systems_trusted_cas_do_not_vouch_for_a_private_ca(cluster: TlsCluster) -> None:
    url = cluster.url(sslmode="verify-full", sslrootcert="system")
    assert Settings(central_url=url).central_url == url  # libpq's word, not a file

    report = _check(url)

    assert report.tls_refused and "could not be verified" in report.reason


def test_a_client_certificate_signs_in_the_user_it_names(cluster: TlsCluster) -> None:
    url = cluster.url(
        user=CERT_USER,
        sslmode="verify-full",
        sslrootcert=str(cluster.ca),
        sslcert=str(cluster.client_cert),
        sslkey=str(cluster.client_key),
    )

    report = _check(url, password=None)

    assert report.reachable and report.client_certificate
    assert "client certificate accepted" in report.summary()
    without = _check(
        cluster.url(user=CERT_USER, sslmode="verify-full", sslrootcert=str(cluster.ca))
    )
    assert without.tls_refused and "sslcert and sslkey" in without.reason


def test_the_workstation_connects_with_tls_files_under_the_home_folder(
    cluster: TlsCluster, isolated_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(cluster.ca, isolated_home / "ca.pem")
    url = cluster.url(sslmode="verify-full", sslrootcert="~/ca.pem")
    ring = FileKeyring(tmp_path / "keyring.json")
    ring.set_password("iamedic-central-db", "clinic", PASSWORD)
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        engine = create_central_engine(central_url(Settings(central_url=url)))
        try:
            with engine.connect() as conn:
                encrypted = conn.execute(
                    text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                ).scalar_one()
        finally:
            engine.dispose()
        capsys.readouterr()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("IAMEDIC_CENTRAL_URL", url)
            code = main(["central", "status", "--json"])
    finally:
        keyring.set_keyring(previous)

    assert encrypted is True
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["central_tables_present"] is False
    assert PASSWORD not in out.out + out.err


def test_an_admin_action_with_a_wrong_ca_is_refused_not_done_on_this_workstation(
    cluster: TlsCluster,
) -> None:
    from iamedic_desktop.core.errors import CentralDatabaseError
    from iamedic_desktop.services.admin_target import _reachable

    url = cluster.url(sslmode="verify-full", sslrootcert=str(cluster.wrong_ca))
    engine = create_central_engine(url.replace("@", f":{PASSWORD}@", 1) if "@" in url else url)
    try:
        with pytest.raises(CentralDatabaseError, match="could not be verified with the CA file"):
            _reachable(engine, "central database")
    finally:
        engine.dispose()
