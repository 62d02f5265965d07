"""``iamedic audit list`` and ``iamedic central audit verify`` as an operator runs them."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from iamedic_desktop.cli import audit as audit_cli
from iamedic_desktop.sync import audit
from tests.e2e.cli_support import assert_clean_failure, json_of
from tests.support.web_writes import insert_media, insert_study, insert_user

pytestmark = pytest.mark.postgres

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def written(engine: Engine) -> dict[str, uuid.UUID]:
    """Entries 1 to 5: a doctor, a study "Twins" with a media (by a stated user), a rename."""
    me = uuid.uuid4()
    with engine.begin() as conn:
        doctor = insert_user(conn)
        study = insert_study(conn, doctor, "Twins")
    with engine.begin() as conn:
        conn.execute(text("SET iamedic.user_id = :u"), {"u": str(me)})
        insert_media(conn, study)
        conn.execute(text("UPDATE studies SET alias = 'Twins 2' WHERE id = :s"), {"s": study})
        insert_study(conn, doctor, "Other")
    return {"doctor": doctor, "study": study, "me": me}


@pytest.mark.parametrize("path", [["audit", "list"], ["central", "audit", "verify"]])
def test_help(run_cli: CliRunner, path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: iamedic {' '.join(path)}")
    assert "--json" in result.stdout


def test_the_cli_offers_the_tables_the_log_knows() -> None:
    assert audit_cli.TABLES == audit.TABLES


def test_list_filters_by_user_study_table_and_time(run_cli: CliRunner, central: Engine) -> None:
    ids = written(central)
    env = {"IAMEDIC_CENTRAL_URL": central.url.render_as_string(hide_password=False)}

    everything = json_of(run_cli("audit", "list", "--json", env=env))
    by_user = json_of(run_cli("audit", "list", "--user", str(ids["me"]), "--json", env=env))
    by_alias = json_of(run_cli("audit", "list", "--study", "Twins 2", "--json", env=env))
    media = json_of(run_cli("audit", "list", "--table", "media", "--json", env=env))
    later = everything[0]["changed_at"]
    since = json_of(run_cli("audit", "list", "--since", later, "--json", env=env))
    page = json_of(run_cli("audit", "list", "--limit", "1", "--offset", "1", "--json", env=env))
    table = run_cli("audit", "list", "--study", str(ids["study"]), env=env)

    assert [e["id"] for e in everything] == [5, 4, 3, 2, 1]
    assert [e["id"] for e in by_user] == [5, 4, 3]
    assert [(e["table_name"], e["op"]) for e in by_alias] == [
        ("studies", "update"),
        ("media", "insert"),
        ("studies", "insert"),
    ]
    assert by_alias[0]["old_values"]["alias"] == "Twins"
    assert [e["study_id"] for e in media] == [str(ids["study"])]
    assert [e["id"] for e in since] == [5]
    assert [e["id"] for e in page] == [4]
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "WHEN", "LOGIN", "USER"]
    assert len(lines) == 4 and lines[1].endswith("update  " + str(ids["study"]) + "  alias")


def test_verify_passes_then_names_the_first_broken_entry(
    run_cli: CliRunner, central: Engine
) -> None:
    written(central)
    env = {"IAMEDIC_CENTRAL_URL": central.url.render_as_string(hide_password=False)}
    intact = json_of(run_cli("central", "audit", "verify", "--json", env=env))
    anchor = f"4:{_hash(central, 4)}"
    with central.begin() as conn:
        conn.execute(text("UPDATE workstation.audit_log SET login = 'x' WHERE id = 3"))

    broken = json_of(run_cli("central", "audit", "verify", "--json", env=env), code=1)
    said = run_cli("central", "audit", "verify", "--anchor", anchor, env=env)

    assert (intact["ok"], intact["checked"], intact["last_id"]) == (True, 5, 5)
    assert (broken["ok"], broken["first_broken_id"], broken["checked"]) == (False, 3, 2)
    assert broken["first_broken"]["login"] == "x"
    assert said.returncode == 1
    assert said.stdout.startswith("❌ The audit log is broken at entry 3: Entry 3 was changed")
    assert "Entries 1 to 2 before it are intact." in said.stdout


def _hash(engine: Engine, entry: int) -> str:
    with engine.connect() as conn:
        sql = text("SELECT entry_hash FROM workstation.audit_log WHERE id = :i")
        return str(conn.execute(sql, {"i": entry}).scalar_one())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["audit", "list", "--study", "Nobody"], "No study has that alias"),
        (["audit", "list", "--user", "nobody@example.org"], "No user has the email"),
        (["central", "audit", "verify", "--anchor", "3:abc"], "The anchor must be"),
    ],
)
def test_a_bad_filter_is_one_clear_line(
    run_cli: CliRunner, central: Engine, args: list[str], fragment: str
) -> None:
    env = {"IAMEDIC_CENTRAL_URL": central.url.render_as_string(hide_password=False)}
    assert_clean_failure(run_cli(*args, env=env), fragment)


def test_without_a_central_database_it_says_so(run_cli: CliRunner) -> None:
    assert_clean_failure(run_cli("audit", "list"), "IAMEDIC_CENTRAL_URL")
