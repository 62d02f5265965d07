"""A throwaway PostgreSQL cluster that speaks TLS only, with its own CA, for TLS tests.

``tls_cluster(workdir)`` makes a CA, a server certificate for the host name ``localhost`` only
(no IP address in it, so connecting by ``127.0.0.1`` fails the host-name check), a second CA
that signed nothing, and a client certificate for the role ``certuser``; then it runs initdb
and starts a cluster from ``/usr/lib/postgresql/*/bin`` on a free port with ``ssl = on`` and
``hostssl`` lines only in pg_hba.conf: ``clinic`` signs in with a password (scram),
``certuser`` with its client certificate. The cluster is stopped when the context ends.

PostgreSQL refuses to run as root: under root the cluster's folder is given to the ``postgres``
system user and the server runs as that user.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PASSWORD = "Tls-Secret-8142"
PASSWORD_USER = "clinic"
CERT_USER = "certuser"
DATABASE = "iamedic"


@dataclass(frozen=True)
class TlsCluster:
    """Where the cluster listens and the files a client needs."""

    port: int
    ca: Path  # the CA that signed the server's and the client's certificates
    wrong_ca: Path  # a CA that signed nothing here
    client_cert: Path
    client_key: Path

    def url(self, host: str = "localhost", user: str = PASSWORD_USER, **query: str) -> str:
        """A URL without password to the cluster's database (query: sslmode, sslrootcert...)."""
        tail = "&".join(f"{key}={value}" for key, value in query.items())
        return f"postgresql://{user}@{host}:{self.port}/{DATABASE}" + (f"?{tail}" if tail else "")


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed under /usr/lib/postgresql")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    dns: str | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if dns is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates(client_dir: Path, server_dir: Path) -> dict[str, Path]:
    """The CA, the wrong CA and the client's files in ``client_dir``; the server's in
    ``server_dir``."""
    ca_key, wrong_key, server_key, client_key = _key(), _key(), _key(), _key()
    ca = _certificate("IAMEDIC test CA", ca_key, None)
    wrong = _certificate("Some other CA", wrong_key, None)
    server = _certificate("localhost", server_key, (ca, ca_key), dns="localhost")
    client = _certificate(CERT_USER, client_key, (ca, ca_key))
    return {
        "ca": _write(client_dir / "ca.pem", _pem(ca)),
        "wrong_ca": _write(client_dir / "wrong-ca.pem", _pem(wrong)),
        "client_cert": _write(client_dir / "client.pem", _pem(client)),
        "client_key": _write(client_dir / "client.key", _key_pem(client_key), 0o600),
        "server_ca": _write(server_dir / "ca.pem", _pem(ca)),
        "server_cert": _write(server_dir / "server.pem", _pem(server)),
        "server_key": _write(server_dir / "server.key", _key_pem(server_key), 0o600),
    }


HBA = f"""\
local all all trust
hostssl all {CERT_USER} 127.0.0.1/32 cert
hostssl all {CERT_USER} ::1/128 cert
hostssl all all 127.0.0.1/32 scram-sha-256
hostssl all all ::1/128 scram-sha-256
"""


@contextlib.contextmanager
def tls_cluster(client_dir: Path) -> Iterator[TlsCluster]:
    """Start the TLS-only cluster (the client's files go to ``client_dir``); stop it after."""
    root = Path(tempfile.mkdtemp(prefix="iamedic-tls-"))
    owner = "postgres" if os.geteuid() == 0 else None
    data, run = root / "data", root / "run"
    port = _free_port()
    try:
        if owner:
            shutil.chown(root, owner, owner)
        _run(owner, "initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        files = make_certificates(client_dir, data)
        run.mkdir()
        for path in (files["server_ca"], files["server_cert"], files["server_key"], run):
            if owner:
                shutil.chown(path, owner, owner)
        (data / "pg_hba.conf").write_text(HBA, encoding="utf-8")
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                f"\nport = {port}\nlisten_addresses = 'localhost'\n"
                f"unix_socket_directories = '{run}'\nssl = on\n"
                "ssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n"
                "ssl_ca_file = 'ca.pem'\nfsync = off\n"
            )
        _run(owner, "pg_ctl", "-D", str(data), "-l", str(root / "server.log"), "-w", "start")
        for sql in (
            f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'",
            f"CREATE ROLE {CERT_USER} LOGIN",
            f"CREATE DATABASE {DATABASE} OWNER {PASSWORD_USER}",
        ):
            _run(owner, "psql", "-h", str(run), "-p", str(port), "-U", "postgres", "-c", sql)
        yield TlsCluster(
            port=port,
            ca=files["ca"],
            wrong_ca=files["wrong_ca"],
            client_cert=files["client_cert"],
            client_key=files["client_key"],
        )
    finally:
        if (data / "postmaster.pid").exists():
            _run(owner, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


def _run(owner: str | None, program: str, *args: str, check: bool = True) -> None:
    """Run a PostgreSQL program (as ``owner`` when given); its output only in an error."""
    subprocess.run(
        [_bin(program), *args], check=check, capture_output=True, user=owner, group=owner
    )
