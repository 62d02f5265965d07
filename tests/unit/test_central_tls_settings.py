"""TLS settings of the central URL: one place makes every central engine, the form keeps the
URL's other query settings, each TLS refusal is shown beside its field."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

import iamedic_desktop
from iamedic_desktop.core.database import central_engine_url, tls_refusal
from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.services.settings_form import (
    OPTIONS,
    central_options,
    central_parts,
    compose_central_url,
    validate_form,
)

PACKAGE = Path(iamedic_desktop.__file__).parent


def _form(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "central_host": "db.hospital.org",
        "central_database": "iamedic",
        "central_user": "workstation",
    }
    form.update(changes)
    return form


def _engine_makers(path: Path) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(getattr(func, "value", None), "id", "")
            if name == "create_engine" or (owner == "psycopg2" and name == "connect"):
                calls.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return calls


def test_every_engine_of_the_application_is_made_in_core_database() -> None:
    makers = [call for path in PACKAGE.rglob("*.py") for call in _engine_makers(path)]

    assert makers and all(call.startswith("core/database.py:") for call in makers), makers


def test_the_tls_files_of_the_url_are_expanded_and_an_unknown_mode_refused() -> None:
    url = central_engine_url(
        "postgresql://u@db/x?sslmode=verify-full&sslrootcert=~/ca.pem&sslkey=~/k.key"
    )

    assert url.query["sslrootcert"] == str(Path.home() / "ca.pem")
    assert url.query["sslkey"] == str(Path.home() / "k.key")
    assert central_engine_url("postgresql://u@db/x?sslrootcert=system").query == {
        "sslrootcert": "system"
    }
    with pytest.raises(InvalidInputError, match="verify-full"):
        central_engine_url("postgresql://u@db/x?sslmode=allow")


def test_saving_the_form_keeps_the_urls_other_query_settings(tmp_path: Path) -> None:
    (ca := tmp_path / "ca.pem").write_text("CA")
    (cert := tmp_path / "client.pem").write_text("cert")
    (key := tmp_path / "client.key").write_text("key")
    url = (
        f"postgresql://workstation@db.hospital.org:5432/iamedic?application_name=ws-3"
        f"&sslcert={cert}&sslkey={key}&sslmode=verify-full&sslrootcert={ca}"
    )

    fields = {**central_parts(url), OPTIONS: central_options(url)}

    assert fields[OPTIONS] == f"application_name=ws-3&sslcert={cert}&sslkey={key}"
    errors: dict[str, str] = {}
    composed = compose_central_url(fields, errors)
    assert errors == {} and composed is not None and make_url(composed) == make_url(url)
    result = validate_form({**fields, "data_dir": str(tmp_path / "data")})
    assert result.settings is not None and result.settings.central_url == composed


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("sslcert=/no/such/client.pem", "client certificate (sslcert) /no/such/client.pem is not"),
        ("sslkey=/no/such/client.key", "client key (sslkey)"),
        ("sslmode=require", "Set sslmode in the TLS mode field"),
        ("password=pw", "Set password in the Password field"),
        ("just words", "name=value pairs"),
    ],
)
def test_a_bad_other_option_is_refused_beside_its_field(
    tmp_path: Path, options: str, words: str
) -> None:
    result = validate_form(_form(tmp_path, **{OPTIONS: options}))

    assert result.settings is None
    assert words in result.errors[OPTIONS]


def test_a_tls_mode_outside_libpqs_is_refused_beside_the_tls_mode(tmp_path: Path) -> None:
    result = validate_form(_form(tmp_path, central_sslmode="allow"))

    assert (
        "must be one of disable, prefer, require, verify-ca, verify-full"
        in (result.errors["central_sslmode"])
    )


def test_only_tls_refusals_are_explained() -> None:
    assert tls_refusal('FATAL:  password authentication failed for user "u"') is None
    assert tls_refusal("could not connect to server: Connection refused") is None
    both = (  # prefer: the encrypted attempt was refused too, so TLS is not what is missing
        'FATAL:  no pg_hba.conf entry for host "10.0.0.5", user "u", database "x", SSL '
        'encryption\nFATAL:  no pg_hba.conf entry for host "10.0.0.5", user "u", database "x", '
        "no encryption"
    )
    assert tls_refusal(both) is None
    assert "accepts only encrypted" in str(tls_refusal(both.split("\n")[1]))
