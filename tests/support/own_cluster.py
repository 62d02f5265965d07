"""A PostgreSQL server of a test's own, on its own port, that the test may restart or stop.

The shared test server must never be restarted (other tests use it at the same time), so a
test that restarts PostgreSQL makes a throwaway cluster with the server's own ``initdb`` and
``pg_ctl``. PostgreSQL refuses to run as root: as root, the cluster's folder is made in the
system's temporary folder (the test's own is closed to other users), given to the
``postgres`` user, and every command runs as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_BIN_GLOB = "/usr/lib/postgresql/*/bin"


@dataclass(frozen=True)
class Cluster:
    """A running throwaway server: its data folder, port and binaries."""

    data: Path
    port: int
    bin: Path
    user: str | None  # run commands as this user (None: as ourselves)

    @property
    def admin_url(self) -> str:
        """The superuser's URL on its ``postgres`` database."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        """Run ``pg_ctl`` on this cluster (start, stop, restart ...), waiting for it."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args)

    def restart(self) -> None:
        """Stop the server (fast: sessions are ended, transactions rolled back) and start it."""
        self.pg_ctl("restart", "-m", "fast", *self._server_args())

    def stop(self) -> None:
        """Stop the server (fast)."""
        self.pg_ctl("stop", "-m", "fast")

    def start(self) -> None:
        """Start the server again."""
        self.pg_ctl("start", *self._server_args())

    def _server_args(self) -> list[str]:
        # The server's output goes to a log file: one inheriting our pipes would keep them open.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.data} -c fsync=off")  # fmt: skip
        return ["-l", str(self.data.parent / "server.log"), "-o", options]

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        done = subprocess.run(
            [*prefix, *command],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.data.parent,  # the postgres user may not enter ours
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")


def _bin() -> Path | None:
    found = sorted(Path("/").glob(_BIN_GLOB.lstrip("/")), key=lambda p: int(p.parent.name))
    return found[-1] if found and (found[-1] / "initdb").exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def own_cluster() -> Iterator[Cluster | None]:
    """A fresh server, stopped and removed afterwards; None where none can be made here."""
    binaries = _bin()
    user = "postgres" if os.geteuid() == 0 else None
    if binaries is None or (user is not None and not _has_user(user)):
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="iamedic-pg-"))
    data = folder / "data"
    try:
        if user is not None:
            info = pwd.getpwnam(user)
            os.chown(folder, info.pw_uid, info.pw_gid)
        cluster = Cluster(data, _free_port(), binaries, user)
        cluster._run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--no-sync")  # fmt: skip
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(RuntimeError):
                cluster.pg_ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return shutil.which("runuser") is not None
