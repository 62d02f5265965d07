"""``iamedic login --no-browser``, ``whoami`` and ``logout`` as real commands, against the stand-in.

The browser's part is done by the test: it opens the URL printed as the first line of stdout
and follows the redirect to the command's loopback address. Secrets go to a real file keyring.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from iamedic_desktop.models import Base
from tests.e2e.conftest import CLI_TIMEOUT_S, CliRunner
from tests.factories import make_doctor
from tests.support.idp import IdpHandle, running_idp
from tests.support.keyring_file import KEYRING_FILE_VARIABLE, FileKeyring

EMAIL = "ada.doctor@example.org"
REPO = Path(__file__).resolve().parents[2]
CENTRAL_PASSWORD = "central-Pw-7f3a9c"  # trust authentication: accepted, and never needed


@pytest.fixture
def idp() -> Iterator[IdpHandle]:
    with running_idp(EMAIL, "Dr. Ada Lovelace") as handle:
        yield handle


@pytest.fixture
def keyring_file(tmp_path: Path) -> Path:
    return tmp_path / "keyring" / "keyring.json"


@pytest.fixture
def cli_env(idp: IdpHandle, keyring_file: Path, tmp_path: Path) -> dict[str, str]:
    """The provider and its client in the settings file; a file keyring for the secrets."""
    keyring_file.parent.mkdir()
    settings_file = Path(os.environ["IAMEDIC_SETTINGS_FILE"])
    settings_file.write_text(
        f'oauth_issuer = "{idp.issuer_url}"\n'
        f'oauth_client_id = "{idp.client_id}"\n'
        f'oauth_client_secret = "{idp.client_secret}"\n',
        encoding="utf-8",
    )
    return {
        "PYTHON_KEYRING_BACKEND": "tests.support.keyring_file.FileKeyring",
        KEYRING_FILE_VARIABLE: str(keyring_file),
        "PYTHONPATH": str(REPO),
    }


def login(
    env: dict[str, str], *flags: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``iamedic login --no-browser``, doing the browser's part with the printed URL.

    With ``answer``, stdin is a terminal (a pseudo-terminal) on which ``answer`` is typed.
    """
    terminal, typing = pty.openpty() if answer is not None else (None, None)
    child = subprocess.Popen(
        [sys.executable, "-m", "iamedic_desktop", "login", "--no-browser", *flags],
        stdin=typing if typing is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **env},
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        with urllib.request.urlopen(url, timeout=30) as landing:  # follows to the loopback
            landing.read()
        if terminal is not None and answer is not None:
            # Typed ahead: the terminal keeps it until the question reads it.
            os.write(terminal, answer.encode() + b"\n")
        out, err = child.communicate(timeout=CLI_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        for fd in (terminal, typing):
            if fd is not None:
                os.close(fd)
    return subprocess.CompletedProcess(child.args, child.returncode, url + "\n" + out, err)


def _files_holding(folder: Path, secret: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def test_login_takes_the_local_studies_and_logout_leaves_no_secret(
    run_cli: CliRunner,
    cli_env: dict[str, str],
    keyring_file: Path,
    idp: IdpHandle,
    tmp_path: Path,
) -> None:
    assert run_cli("studies", "create", "Made in local mode", env=cli_env).returncode == 0

    done = login(cli_env, "--take-local-studies")
    assert done.returncode == 0, done.stderr
    assert f"Signed in as Dr. Ada Lovelace <{EMAIL}>" in done.stdout
    assert "1 study is now yours" in done.stdout
    refresh_tokens = FileKeyring(keyring_file).secrets()
    assert refresh_tokens and set(refresh_tokens) <= idp.refresh_tokens

    whoami = run_cli("whoami", "--json", env=cli_env)
    assert whoami.returncode == 0, whoami.stderr
    info = json.loads(whoami.stdout)
    assert (info["email"], info["mode"], info["online"]) == (EMAIL, "signed in", "online")
    assert info["valid_until"] is not None

    data = Path(os.environ["IAMEDIC_DATA_DIR"])
    settings_file = Path(os.environ["IAMEDIC_SETTINGS_FILE"])
    for token in idp.refresh_tokens:
        assert _files_holding(data, token) == []
        assert token not in settings_file.read_text(encoding="utf-8")

    logout = run_cli("logout", env=cli_env)
    assert logout.returncode == 0, logout.stderr
    assert f"Signed out {EMAIL}" in logout.stdout
    assert FileKeyring(keyring_file).secrets() == []
    again = run_cli("studies", "list", env=cli_env)
    assert again.returncode == 1
    assert "Sign-in required: run iamedic login" in again.stderr
    assert "Traceback" not in again.stderr
    # Maintenance of the store itself needs nobody signed in.
    upgraded = run_cli("db", "upgrade", env=cli_env)
    assert upgraded.returncode == 0, upgraded.stderr
    for token in idp.refresh_tokens:
        assert _files_holding(tmp_path, token) == []  # the data folder, logs, settings, all


def test_without_a_terminal_or_a_flag_the_local_studies_are_left_and_it_says_how(
    run_cli: CliRunner, cli_env: dict[str, str]
) -> None:
    assert run_cli("studies", "create", "Made in local mode", env=cli_env).returncode == 0
    done = login(cli_env)
    assert done.returncode == 0, done.stderr
    assert "1 study was made in local mode on this workstation and left as it is" in done.stdout
    assert "`iamedic login --take-local-studies` to make it yours" in done.stdout

    taken = login(cli_env, "--take-local-studies")
    assert taken.returncode == 0, taken.stderr
    assert "1 study is now yours" in taken.stdout


def test_at_a_terminal_the_question_is_asked_once(
    run_cli: CliRunner, cli_env: dict[str, str]
) -> None:
    assert run_cli("studies", "create", "Made in local mode", env=cli_env).returncode == 0
    first = login(cli_env, answer="n")
    assert first.returncode == 0, first.stderr
    assert "1 study was made in local mode on this workstation: make it yours? [y/N]" in (
        first.stdout
    )
    assert "left as it is" in first.stdout

    second = login(cli_env, answer="y")
    assert second.returncode == 0, second.stderr
    assert "make it yours? [y/N]" not in second.stdout  # answered once, and recorded
    assert "iamedic login --take-local-studies" in second.stdout


def test_a_wrong_provider_answer_leaves_no_session(
    run_cli: CliRunner, cli_env: dict[str, str], idp: IdpHandle
) -> None:
    idp.faults.wrong_audience = True
    refused = login(cli_env)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    whoami = run_cli("whoami", env=cli_env)
    assert whoami.returncode == 0  # still local mode: nobody signed in
    assert "local" in whoami.stdout


@pytest.mark.postgres
def test_with_a_central_database_no_secret_is_written_anywhere(
    run_cli: CliRunner,
    cli_env: dict[str, str],
    keyring_file: Path,
    idp: IdpHandle,
    pg_central_engine: Engine,
    tmp_path: Path,
) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with pg_central_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    with Session(pg_central_engine) as session:
        make_doctor(session, email=EMAIL, name="Dr. Ada (central)")
        session.commit()
    url = pg_central_engine.url.set(password=None).render_as_string(hide_password=False)
    settings_file = Path(os.environ["IAMEDIC_SETTINGS_FILE"])
    with settings_file.open("a", encoding="utf-8") as out:
        out.write(f'central_url = "{url}"\n')
    FileKeyring(keyring_file).set_password(
        "iamedic-central-db", pg_central_engine.url.username or "", CENTRAL_PASSWORD
    )

    done = login(cli_env)
    assert done.returncode == 0, done.stderr
    whoami = run_cli("whoami", "--json", env=cli_env)
    info = json.loads(whoami.stdout)
    assert (info["roles"], info["doctor_status"]) == (["doctor"], "approved")
    assert run_cli("studies", "create", "Doctor's study", env=cli_env).returncode == 0
    secrets = [CENTRAL_PASSWORD, *idp.refresh_tokens]
    for secret in secrets:
        assert _files_holding(tmp_path / "data", secret) == []
        assert secret not in settings_file.read_text(encoding="utf-8")

    assert run_cli("logout", env=cli_env).returncode == 0
    assert FileKeyring(keyring_file).secrets() == []  # the central password went too
    for secret in secrets:
        assert _files_holding(tmp_path, secret) == []
