"""The identity provider settings: Google by default, a hospital's own provider when set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from iamedic_desktop.core.settings import Settings


def test_google_is_the_default_provider() -> None:
    settings = Settings()
    assert settings.oauth_issuer == "https://accounts.google.com"
    assert settings.oauth_client_id is None
    assert settings.oauth_client_secret is None
    assert settings.offline_days == 7


def test_the_environment_names_another_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMEDIC_OAUTH_ISSUER", "http://127.0.0.1:8765")
    monkeypatch.setenv("IAMEDIC_OAUTH_CLIENT_ID", " desktop-client ")
    monkeypatch.setenv("IAMEDIC_OAUTH_CLIENT_SECRET", "")
    settings = Settings()
    assert settings.oauth_issuer == "http://127.0.0.1:8765"
    assert settings.oauth_client_id == "desktop-client"
    assert settings.oauth_client_secret is None


@pytest.mark.parametrize(
    "issuer",
    ["http://idp.example.org", "ftp://idp.example.org", "accounts.google.com", "https://", ""],
)
def test_an_issuer_that_is_neither_https_nor_local_is_refused(issuer: str) -> None:
    with pytest.raises(ValidationError, match="identity provider"):
        Settings(oauth_issuer=issuer)


@pytest.mark.parametrize("issuer", ["http://localhost:9000", "https://login.hospital.example/"])
def test_https_and_local_issuers_are_accepted(issuer: str) -> None:
    assert Settings(oauth_issuer=issuer).oauth_issuer == issuer


def test_offline_days_cannot_be_negative() -> None:
    with pytest.raises(ValidationError):
        Settings(offline_days=-1)
