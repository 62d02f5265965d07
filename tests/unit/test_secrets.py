"""The central database password comes from the keyring, and never shows in a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, NoKeyringError, PasswordDeleteError
from sqlalchemy.engine import make_url

from iamedic_desktop.auth.secrets import (
    central_url,
    forget_central_password,
    forget_refresh_token,
    redacted,
    store_central_password,
    store_refresh_token,
    stored_refresh_token,
)
from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.settings import Settings

SERVICE = "iamedic-central-db"


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict (the test never touches the machine's own)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such secret")


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise NoKeyringError("no backend")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_password_comes_from_the_keyring(
    memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    memory_keyring.set_password(SERVICE, "clinic", "s3cret-pw")
    settings = Settings(central_url="postgresql+psycopg2://clinic@db.example:5432/iamedic")

    with caplog.at_level(logging.DEBUG):
        url = make_url(central_url(settings))

    assert url.username == "clinic"
    assert url.password == "s3cret-pw"
    assert "s3cret-pw" not in caplog.text
    assert "s3cret-pw" not in redacted(url.render_as_string(hide_password=False))


def test_a_password_in_the_url_is_kept(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(SERVICE, "clinic", "from-keyring")
    settings = Settings(central_url="postgresql://clinic:in-url@db/iamedic")
    assert make_url(central_url(settings)).password == "in-url"


def test_the_service_name_comes_from_the_settings(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("other-service", "clinic", "pw2")
    settings = Settings(
        central_url="postgresql://clinic@db/iamedic", central_keyring_service="other-service"
    )
    assert make_url(central_url(settings)).password == "pw2"


def test_without_a_keyring_the_url_is_used_as_is() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        url = central_url(Settings(central_url="postgresql://clinic@db/iamedic"))
    finally:
        keyring.set_keyring(previous)
    assert make_url(url).password is None


def test_no_central_url_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="IAMEDIC_CENTRAL_URL"):
        central_url(Settings())


def test_the_refresh_token_is_kept_per_user_and_forgotten_at_sign_out(
    memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        store_refresh_token("ada@example.org", "1//refresh-token-ada")
        store_refresh_token("bob@example.org", "1//refresh-token-bob")
        assert stored_refresh_token("ada@example.org") == "1//refresh-token-ada"
        assert forget_refresh_token("ada@example.org") is True
        assert forget_refresh_token("ada@example.org") is False
    assert stored_refresh_token("ada@example.org") is None
    assert stored_refresh_token("bob@example.org") == "1//refresh-token-bob"
    assert "refresh-token" not in caplog.text


def test_the_central_password_is_kept_under_the_url_user_and_forgotten(
    memory_keyring: MemoryKeyring,
) -> None:
    settings = Settings(central_url="postgresql://clinic@db/iamedic")
    store_central_password(settings, "pw-kept")
    assert memory_keyring.secrets == {(SERVICE, "clinic"): "pw-kept"}
    assert make_url(central_url(settings)).password == "pw-kept"
    assert forget_central_password(settings) is True
    assert memory_keyring.secrets == {}
    assert forget_central_password(Settings()) is False  # no central database: nothing to do


class RefusingKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"locked while storing {password}")


def test_a_keyring_that_refuses_says_so_without_the_secret() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(RefusingKeyring())
    try:
        with pytest.raises(StorageError, match="No keyring could keep") as refused:
            store_refresh_token("ada@example.org", "1//never-shown")
    finally:
        keyring.set_keyring(previous)
    assert "never-shown" not in refused.value.message
