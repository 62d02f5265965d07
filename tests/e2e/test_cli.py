"""The ``iamedic`` command as a user runs it: help, exit codes, studies, users, the stores."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from iamedic_desktop import __version__
from iamedic_desktop.core.settings import Settings, get_settings
from tests.e2e.cli_support import assert_clean_failure, json_of

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
WEB_REVISION = "92a0e66dec74"

HELP_PATHS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["db", "status"],
    ["central"],
    ["central", "upgrade"],
    ["central", "status"],
    ["users"],
    ["users", "list"],
    ["studies"],
    ["studies", "list"],
    ["studies", "create"],
    ["studies", "rename"],
    ["studies", "delete"],
]


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: " ".join(p) or "iamedic")
def test_help_at_every_level(run_cli: CliRunner, path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: iamedic {' '.join(path)}".rstrip())
    if path and path[-1] in {"upgrade", "status", "list", "create", "rename", "delete"}:
        assert "--json" in result.stdout


def test_version(run_cli: CliRunner) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"iamedic {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_load_neither_qt_nor_the_database(
    run_cli: CliRunner, args: list[str]
) -> None:
    # -X importtime lists every module the interpreter imported, on stderr.
    result = run_cli(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0
    imported = set(re.findall(r"\|\s+([\w.]+)$", result.stderr, flags=re.MULTILINE))
    assert "iamedic_desktop.cli" in imported  # the listing is real
    assert not {m for m in imported if m.split(".")[0] in {"PySide6", "shiboken6"}}
    assert not {m for m in imported if m.split(".")[0] in {"sqlalchemy", "mlflow", "alembic"}}


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["studies"], "required"),
        (["frobnicate"], "invalid choice"),
        (["studies", "create"], "ALIAS"),
        (["studies", "list", "--limit", "0"], "must be 1 or more"),
        (["studies", "list", "--offset", "many"], "not a whole number"),
    ],
)
def test_usage_errors_exit_2(run_cli: CliRunner, args: list[str], complaint: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert "usage: iamedic" in result.stderr
    assert complaint in result.stderr


def test_studies_round_trip(run_cli: CliRunner) -> None:
    first = json_of(run_cli("studies", "create", "Anatomy 20w", "--json"))
    second = json_of(run_cli("studies", "create", "NT check 12w", "--json"))
    assert (first["alias"], first["is_active"], first["media_count"]) == ("Anatomy 20w", True, 0)

    listing = json_of(run_cli("studies", "list", "--json"))
    assert listing["total"] == 2
    assert [s["alias"] for s in listing["items"]] == ["NT check 12w", "Anatomy 20w"]
    assert listing["items"][0]["id"] == second["id"]

    renamed = json_of(run_cli("studies", "rename", first["id"], "Anatomy 21w", "--json"))
    assert (renamed["id"], renamed["alias"]) == (first["id"], "Anatomy 21w")

    table = run_cli("studies", "list", "--search", "anatomy")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "ALIAS", "MEDIA", "ACTIVE", "CREATED", "UPDATED"]
    assert first["id"] in lines[1] and "Anatomy 21w" in lines[1]
    assert lines[-1] == "(1–1 of 1)"

    deleted = json_of(run_cli("studies", "delete", "NT check 12w", "--json"))
    assert (deleted["id"], deleted["is_active"]) == (second["id"], False)
    assert json_of(run_cli("studies", "list", "--json"))["total"] == 1
    everything = json_of(run_cli("studies", "list", "--include-deleted", "--json"))
    assert everything["total"] == 2


def test_paging_options_reach_the_listing(run_cli: CliRunner) -> None:
    for alias in ("A1", "A2", "A3"):
        assert run_cli("studies", "create", alias).returncode == 0
    page = json_of(run_cli("studies", "list", "--offset", "1", "--limit", "1", "--json"))
    assert (page["offset"], page["limit"], page["total"]) == (1, 1, 3)
    assert [s["alias"] for s in page["items"]] == ["A2"]


def test_a_duplicate_alias_is_refused_readably(run_cli: CliRunner) -> None:
    assert run_cli("studies", "create", "Twin pregnancy").returncode == 0
    assert_clean_failure(run_cli("studies", "create", "Twin pregnancy"), "Twin pregnancy")
    assert json_of(run_cli("studies", "list", "--json"))["total"] == 1


def test_an_unknown_study_is_a_clean_failure(run_cli: CliRunner) -> None:
    assert_clean_failure(run_cli("studies", "delete", "no such study"))


def test_db_status_then_upgrade(run_cli: CliRunner) -> None:
    before = json_of(run_cli("db", "status", "--json"))
    assert (before["exists"], before["current"], before["is_current"]) == (False, None, False)

    upgraded = json_of(run_cli("db", "upgrade", "--json"))
    assert upgraded["current"] == upgraded["head"] == before["head"]
    assert upgraded["is_current"] is True

    after = json_of(run_cli("db", "status", "--json"))
    assert (after["exists"], after["current"], after["is_current"]) == (True, before["head"], True)
    human = run_cli("db", "status")
    assert re.search(r"^Up to date\s+yes$", human.stdout, flags=re.MULTILINE), human.stdout


def test_users_list_shows_the_local_user(run_cli: CliRunner) -> None:
    page = json_of(run_cli("users", "list", "--json"))
    assert page["total"] == 1
    (user,) = page["items"]
    assert user["email"] == "local@iamedic.invalid"
    assert sorted(user["roles"]) == ["admin", "doctor"]
    assert user["doctor_status"] == "approved"


def test_central_commands_need_a_url(run_cli: CliRunner) -> None:
    assert_clean_failure(run_cli("central", "status"), "IAMEDIC_CENTRAL_URL")


def test_an_unreachable_central_database_is_a_clean_failure(run_cli: CliRunner) -> None:
    url = "postgresql+psycopg2://clinic:pw-not-shown@127.0.0.1:9/iamedic"
    result = run_cli("central", "status", env={"IAMEDIC_CENTRAL_URL": url})
    assert_clean_failure(result, "not reachable")
    assert "pw-not-shown" not in result.stderr


@pytest.mark.postgres
def test_central_upgrade_on_a_fresh_database(run_cli: CliRunner, pg_database: str) -> None:
    env = {"IAMEDIC_CENTRAL_URL": pg_database}
    before = json_of(run_cli("central", "status", "--json", env=env))
    assert (before["central_tables_present"], before["is_current"]) == (False, False)

    upgraded = json_of(run_cli("central", "upgrade", "--json", env=env))
    assert upgraded["web_revision"] == WEB_REVISION
    assert upgraded["central_tables_present"] is True
    assert upgraded["workstation_current"] == upgraded["workstation_head"]
    assert upgraded["is_current"] is True

    again = json_of(run_cli("central", "status", "--json", env=env))
    assert again == upgraded


@pytest.mark.parametrize(
    "url",
    [
        "mysql://clinic:pw-not-shown@db.example.org/iamedic",
        "sqlite:///{tmp}/central.sqlite3",
        "postgresql+asyncpg://clinic:pw-not-shown@db.example.org/iamedic",
        "garbage",
    ],
)
@pytest.mark.parametrize("command", ["upgrade", "status"])
def test_a_central_url_of_another_kind_is_refused(
    run_cli: CliRunner, tmp_path: Path, url: str, command: str
) -> None:
    url = url.format(tmp=tmp_path)
    result = run_cli("central", command, env={"IAMEDIC_CENTRAL_URL": url})
    assert_clean_failure(
        result, "IAMEDIC_CENTRAL_URL", "postgresql://", "postgresql+psycopg2://", "postgres://"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert "pw-not-shown" not in result.stderr
    assert "localhost" not in result.stderr and "5432" not in result.stderr
    assert not (tmp_path / "central.sqlite3").exists()


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2"])
def test_central_upgrade_takes_the_webs_url_forms(
    run_cli: CliRunner, pg_database: str, scheme: str
) -> None:
    url = f"{scheme}://{pg_database.split('://', 1)[1]}"
    env = {"IAMEDIC_CENTRAL_URL": url}

    upgraded = json_of(run_cli("central", "upgrade", "--json", env=env))

    assert upgraded["is_current"] is True
    assert upgraded["url"].startswith(f"{scheme}://")
    assert json_of(run_cli("central", "status", "--json", env=env)) == upgraded


@pytest.mark.parametrize("inside", [False, True], ids=["the-file", "inside-the-file"])
def test_a_data_folder_that_is_a_file_is_a_clean_failure(
    run_cli: CliRunner, tmp_path: Path, inside: bool
) -> None:
    afile = tmp_path / "iamedic-data"
    afile.write_text("a file where the data folder should be", encoding="utf-8")
    data_dir = afile / "store" if inside else afile
    result = run_cli("studies", "list", env={"IAMEDIC_DATA_DIR": str(data_dir)})
    assert_clean_failure(result, "IAMEDIC_DATA_DIR", "is a file, not a folder")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("blocked", ["logs", "media"])
def test_a_file_in_place_of_a_folder_of_the_data_folder_is_a_clean_failure(
    run_cli: CliRunner, tmp_path: Path, blocked: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / blocked).write_text("in the way", encoding="utf-8")
    result = run_cli("studies", "list", env={"IAMEDIC_DATA_DIR": str(data_dir)})
    assert_clean_failure(result, str(data_dir / blocked))
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_settings_are_a_clean_failure(run_cli: CliRunner) -> None:
    result = run_cli("studies", "list", env={"IAMEDIC_LOG_LEVEL": "LOUD"})
    assert_clean_failure(result, "IAMEDIC_LOG_LEVEL", "LOUD")


@pytest.mark.usefixtures("restore_root_logger")
def test_no_arguments_opens_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import iamedic_desktop.ui.app
    from iamedic_desktop.cli import main

    opened: list[Settings] = []

    def fake_run_gui(settings: Settings) -> int:
        opened.append(settings)
        return 7

    monkeypatch.setattr(iamedic_desktop.ui.app, "run_gui", fake_run_gui)
    assert main([]) == 7
    assert [s.data_dir for s in opened] == [get_settings().data_dir]


@pytest.mark.usefixtures("restore_root_logger")
def test_no_display_is_said_plainly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from iamedic_desktop.cli import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 1
    assert "No display" in capsys.readouterr().err


@pytest.mark.usefixtures("restore_root_logger")
def test_a_defect_is_one_line_on_the_console_and_a_traceback_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from iamedic_desktop.cli import main, users

    def broken(*_: object) -> int:
        raise RuntimeError("a defect")

    monkeypatch.setattr(users, "list_command", broken)
    assert main(["users", "list"]) == 1

    err = capsys.readouterr().err
    assert err.splitlines() == [
        next(line for line in err.splitlines() if line.endswith("❌ Unexpected error")),
        "❌ Unexpected error: RuntimeError: a defect",
    ]
    log_text = (get_settings().log_dir / "iamedic.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log_text
    assert "RuntimeError: a defect" in log_text


@pytest.mark.usefixtures("restore_root_logger")
def test_a_refusal_names_the_file_on_the_console_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from iamedic_desktop.cli import main, users
    from iamedic_desktop.core.errors import InvalidInputError

    def refused(*_: object) -> int:
        raise InvalidInputError("'DOE_JANE_1987.mp4' could not be decoded.")

    monkeypatch.setattr(users, "list_command", refused)
    assert main(["users", "list"]) == InvalidInputError.exit_code

    assert "❌ 'DOE_JANE_1987.mp4' could not be decoded." in capsys.readouterr().err
    log_text = (get_settings().log_dir / "iamedic.log").read_text(encoding="utf-8")
    assert "❌ '…' could not be decoded." in log_text
    assert "DOE_JANE" not in log_text
