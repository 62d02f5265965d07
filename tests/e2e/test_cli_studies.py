"""``iamedic studies ...`` as a user runs it: restoring deleted studies, aliases that are
unambiguous (NFC, no invisible characters, never an id's spelling)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from tests.e2e.cli_support import assert_clean_failure, json_of

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def test_restore_has_help(run_cli: CliRunner) -> None:
    result = run_cli("studies", "restore", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: iamedic studies restore")
    assert "--json" in result.stdout and "STUDY" in result.stdout


def test_a_deleted_study_is_restored_as_the_message_says(run_cli: CliRunner) -> None:
    created = json_of(run_cli("studies", "create", "Twin pregnancy", "--json"))
    assert run_cli("studies", "delete", "Twin pregnancy").returncode == 0

    taken = run_cli("studies", "create", "Twin pregnancy")
    assert_clean_failure(taken, "deleted study", "iamedic studies restore 'Twin pregnancy'")

    restored = run_cli("studies", "restore", "Twin pregnancy")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("✅ Study 'Twin pregnancy' restored with no media.")
    assert created["id"] in restored.stdout
    listing = json_of(run_cli("studies", "list", "--json"))
    assert [(s["id"], s["is_active"]) for s in listing["items"]] == [(created["id"], True)]


def test_restoring_an_active_study_is_a_plain_no_op(run_cli: CliRunner) -> None:
    created = json_of(run_cli("studies", "create", "Still here", "--json"))
    again = run_cli("studies", "restore", created["id"])
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("⚠️ Study 'Still here' is not deleted; nothing to restore.")
    as_json = json_of(run_cli("studies", "restore", "Still here", "--json"))
    assert as_json["restored"] is False
    assert as_json["study"]["id"] == created["id"]


def test_restore_by_id_as_json(run_cli: CliRunner) -> None:
    created = json_of(run_cli("studies", "create", "By id", "--json"))
    assert run_cli("studies", "delete", created["id"]).returncode == 0
    restored = json_of(run_cli("studies", "restore", created["id"], "--json"))
    assert restored["restored"] is True
    assert (restored["study"]["id"], restored["study"]["is_active"]) == (created["id"], True)
    assert restored["message"] == "Study 'By id' restored with no media."


def test_restoring_an_unknown_study_is_a_clean_failure(run_cli: CliRunner) -> None:
    assert_clean_failure(run_cli("studies", "restore", "no such study"), "no such study")


def test_an_alias_spelled_like_an_id_is_refused(run_cli: CliRunner) -> None:
    target = json_of(run_cli("studies", "create", "Target", "--json"))
    assert_clean_failure(run_cli("studies", "create", target["id"]), "spelled like a study id")
    assert_clean_failure(
        run_cli("studies", "rename", "Target", target["id"].upper()), "spelled like a study id"
    )
    # The id still names the study it belongs to.
    renamed = json_of(run_cli("studies", "rename", target["id"], "Target 2", "--json"))
    assert renamed["id"] == target["id"]


def test_aliases_that_look_alike_are_one_alias(run_cli: CliRunner) -> None:
    created = json_of(run_cli("studies", "create", "Cafe\u0301", "--json"))
    assert created["alias"] == "Caf\u00e9"
    assert_clean_failure(run_cli("studies", "create", "Caf\u00e9"), "already have a study")
    assert_clean_failure(
        run_cli("studies", "create", "Caf\u200b\u00e9"), "invisible character", "U+200B"
    )
    assert_clean_failure(run_cli("studies", "create", "\u202eCafe"), "U+202E")
    assert json_of(run_cli("studies", "list", "--json"))["total"] == 1
