"""The MLflow UI for admins: the configured server's address, or a local server started for it.

With an http(s) tracking URI the UI is that address. With the local registry in the data folder
(``sqlite:///<data>/mlflow/mlflow.db``) a child ``python -m mlflow server`` is started on a free
port of 127.0.0.1 over that database and artifact root, and waited for (bounded); it lives until
``stop_server()`` (the window calls it on exit). Threading: ``ui_url`` blocks for the start-up,
so it runs on a worker; a lock keeps two callers from starting two servers.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from iamedic_desktop.core.errors import ModelError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    url: str
    backend_uri: str


_lock = threading.Lock()
_running: _Server | None = None


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ui_url(
    tracking_uri: str,
    *,
    artifacts_dir: Path | None = None,
    log_file: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> str:
    """The address of the MLflow UI for ``tracking_uri``, starting a local server if needed."""
    if tracking_uri.startswith(("http://", "https://")):
        return tracking_uri.rstrip("/")
    global _running
    with _lock:
        if (
            _running is not None
            and _running.process.poll() is None
            and _running.backend_uri == tracking_uri
        ):
            return _running.url
        _stop_locked()
        _running = _start(tracking_uri, artifacts_dir, log_file, timeout_s)
        return _running.url


def _start(
    backend_uri: str, artifacts_dir: Path | None, log_file: Path | None, timeout_s: float
) -> _Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri]
    if artifacts_dir is not None:
        artifacts_dir.mkdir(parents=True, exist_ok=True)
        command += ["--default-artifact-root", artifacts_dir.as_uri(), "--no-serve-artifacts"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    output = open(log_file, "ab") if log_file is not None else subprocess.DEVNULL  # noqa: SIM115
    log.info("🚀 Starting the MLflow UI on %s", url)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group: the server's workers are stopped with it.
            start_new_session=os.name != "nt",
        )
    except OSError as exc:
        raise ModelError(f"The MLflow UI cannot be started: {exc.strerror or exc}.") from exc
    finally:
        if log_file is not None:
            output.close()  # type: ignore[union-attr]
    server = _Server(process, url, backend_uri)
    if not _wait_until_up(server, timeout_s):
        _terminate(server)
        where = f" (see {log_file})" if log_file is not None else ""
        raise ModelError(
            f"The MLflow UI did not answer within {timeout_s:.0f} s{where}; try again, or open "
            "an MLflow server of your own on the registry."
        )
    log.info("✅ The MLflow UI answers at %s", url)
    return server


def _wait_until_up(server: _Server, timeout_s: float) -> bool:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False  # it ended (a port taken meanwhile, a broken install)
        try:
            if httpx.get(f"{server.url}/health", timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def is_running() -> bool:
    """Whether a local MLflow server started here is running."""
    with _lock:
        return _running is not None and _running.process.poll() is None


def stop_server() -> None:
    """Stop the local MLflow server started here, if any (at the window's exit)."""
    with _lock:
        _stop_locked()


def _stop_locked() -> None:
    global _running
    if _running is not None:
        _terminate(_running)
        log.info("🔧 The local MLflow UI was stopped")
    _running = None


def _terminate(server: _Server) -> None:
    process = server.process
    if process.poll() is not None:
        return
    try:
        if os.name != "nt":
            os.killpg(process.pid, signal.SIGTERM)  # the group started for this server only
        else:
            process.terminate()
        process.wait(timeout=STOP_TIMEOUT_S)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        if process.poll() is None:
            if os.name != "nt":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
