"""The settings form: each refusal names its field; a save is whole or not at all."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.errors import KeyringError

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.core.settings import default_settings_file
from iamedic_desktop.services.settings_form import (
    central_parts,
    compose_central_url,
    save_form,
    validate_form,
)
from tests.support.keyring_file import FileKeyring


def _form(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "language": "en",
        "theme": "dark",
        "data_dir": str(tmp_path / "data"),
        "oauth_issuer": "https://accounts.google.com",
        "offline_days": "7",
        "inference": "local",
        "model_alias": "champion",
        "classifier_model_name": "frame_classifier_224x224",
        "box_model_name": "fetal_structures_bb_regressor_224x224",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {
                "central_host": "db",
                "central_user": "u",
                "central_database": "x",
                "central_port": "0",
            },
            "central_port",
            "1 to 65535",
        ),
        (
            {
                "central_host": "db",
                "central_user": "u",
                "central_database": "x",
                "central_port": "5o",
            },
            "central_port",
            "1 to 65535",
        ),
        ({"central_user": "u", "central_database": "x"}, "central_host", "host is needed"),
        (
            {"central_host": "db host", "central_user": "u", "central_database": "x"},
            "central_host",
            "not a host name",
        ),
        ({"central_host": "db", "central_database": "x"}, "central_user", "user name is needed"),
        (
            {"central_host": "db", "central_user": "u", "central_database": "a/b"},
            "central_database",
            "cannot hold",
        ),
        (
            {
                "central_host": "db",
                "central_user": "u",
                "central_database": "x",
                "central_sslmode": "allow",
            },
            "central_sslmode",
            "verify-full",
        ),
        (
            {
                "central_host": "db",
                "central_user": "u",
                "central_database": "x",
                "central_sslrootcert": "/no/such/ca.pem",
            },
            "central_sslrootcert",
            "not a file",
        ),
        ({"offline_days": "-1"}, "offline_days", "at least 0"),
        ({"offline_days": "seven"}, "offline_days", "whole number"),
        ({"oauth_issuer": "http://idp.example.org"}, "oauth_issuer", "https://"),
        (
            {"inference": "http", "box_service_url": "http://boxes:8000"},
            "classifier_service_url",
            "needs the address",
        ),
        ({"mlflow_tracking_uri": "mlflow.example.org"}, "mlflow_tracking_uri", "http://"),
        ({"model_alias": "my alias"}, "model_alias", "match pattern"),
        ({"data_dir": ""}, "data_dir", "cannot be empty"),
    ],
)
def test_each_refusal_is_shown_beside_its_field(
    tmp_path: Path, changes: dict[str, Any], field: str, words: str
) -> None:
    result = validate_form(_form(tmp_path, **changes))
    assert result.settings is None
    assert words in result.errors[field]


def test_a_data_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = validate_form(_form(tmp_path, data_dir=str(tmp_path / "file")))
    assert "is a file, not a folder" in result.errors["data_dir"]


def test_the_central_url_is_made_of_its_parts_without_password(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    fields = {
        "central_host": "db.hospital.org",
        "central_port": "",
        "central_database": "iamedic",
        "central_user": "workstation",
        "central_sslmode": "verify-full",
        "central_sslrootcert": str(ca),
        "central_password": "pw",
    }
    errors: dict[str, str] = {}
    url = compose_central_url(fields, errors)
    assert errors == {}
    assert url is not None
    assert url.startswith(
        "postgresql://workstation@db.hospital.org:5432/iamedic?sslmode=verify-full&sslrootcert="
    )
    assert "pw" not in url
    assert central_parts(url) | {"central_password": "pw", "central_port": ""} == fields | {
        "central_port": ""
    }
    assert compose_central_url({}, errors) is None


def test_the_file_is_put_back_when_the_keyring_refuses_the_password(tmp_path: Path) -> None:
    path = default_settings_file()
    path.write_text("offline_days = 2\n", encoding="utf-8")

    class Refusing(FileKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringError("locked")

    candidate = validate_form(
        _form(tmp_path, central_host="db", central_user="u", central_database="x")
    ).settings
    assert candidate is not None
    previous = keyring.get_keyring()
    keyring.set_keyring(Refusing(tmp_path / "ring.json"))
    try:
        with pytest.raises(StorageError, match="keyring"):
            save_form(candidate, "pw")
    finally:
        keyring.set_keyring(previous)
    assert path.read_text(encoding="utf-8") == "offline_days = 2\n"


def test_a_save_writes_the_url_and_keeps_the_password_in_the_keyring(tmp_path: Path) -> None:
    candidate = validate_form(
        _form(
            tmp_path,
            central_host="db",
            central_user="u",
            central_database="x",
            central_password="pw-123",
            oauth_client_secret="installed-app",
        )
    ).settings
    assert candidate is not None
    ring = FileKeyring(tmp_path / "ring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        save_form(candidate, "pw-123")
    finally:
        keyring.set_keyring(previous)
    text = default_settings_file().read_text(encoding="utf-8")
    document = tomllib.loads(text)
    assert document["central_url"] == "postgresql://u@db:5432/x"
    assert document["oauth_client_secret"] == "installed-app"
    assert "pw-123" not in text
    assert ring.get_password("iamedic-central-db", "u") == "pw-123"
