"""Settings precedence: defaults < settings file < .env < IAMEDIC_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from iamedic_desktop.app import load_settings
from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.settings import Settings, default_settings_file, get_settings


@pytest.fixture
def settings_file() -> Path:
    # isolated_home points IAMEDIC_SETTINGS_FILE into the test's folder.
    return default_settings_file()


def test_defaults_apply_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IAMEDIC_DATA_DIR")
    settings = Settings()
    assert settings.log_level == "INFO"
    assert settings.central_url is None
    assert settings.local_user_name == "Local clinician"
    # platformdirs under the isolated HOME (XDG_DATA_HOME).
    assert settings.data_dir == (Path.home() / ".local" / "share" / "iamedic").resolve()


def test_each_source_overrides_the_one_before(
    settings_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file.write_text(
        'log_level = "WARNING"\nlocal_user_name = "From file"\n'
        'central_url = "postgresql://file@db/iamedic"\nlog_backups = 7\n',
        encoding="utf-8",
    )
    (tmp_path / ".env").write_text(
        "IAMEDIC_LOG_LEVEL=ERROR\nIAMEDIC_LOCAL_USER_NAME=From dotenv\n", encoding="utf-8"
    )
    monkeypatch.setenv("IAMEDIC_LOG_LEVEL", "debug")

    settings = Settings()

    assert settings.log_level == "DEBUG"  # environment beats .env and file
    assert settings.local_user_name == "From dotenv"  # .env beats file
    assert settings.central_url == "postgresql://file@db/iamedic"  # file beats default
    assert settings.log_backups == 7
    assert settings.log_max_bytes == 5 * 1024 * 1024  # default


def test_data_and_cache_dirs_are_overridable(
    settings_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IAMEDIC_DATA_DIR", str(tmp_path / "elsewhere" / ".." / "store"))
    settings_file.write_text(f'cache_dir = "{tmp_path / "thumbs"}"\n', encoding="utf-8")
    monkeypatch.delenv("IAMEDIC_CACHE_DIR")

    settings = Settings()

    assert settings.data_dir == tmp_path / "store"  # resolved
    assert settings.local_db_path == tmp_path / "store" / "iamedic.sqlite3"
    assert settings.cache_dir == tmp_path / "thumbs"


def test_a_bad_value_names_the_field_and_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMEDIC_LOG_LEVEL", "LOUD")
    with pytest.raises(ValidationError, match="log_level"):
        Settings()

    with pytest.raises(InvalidInputError) as caught:
        load_settings()
    message = caught.value.message
    assert "log_level (IAMEDIC_LOG_LEVEL)" in message
    assert "unknown log level 'LOUD'" in message
    assert str(default_settings_file()) in message


def test_a_broken_settings_file_is_reported(settings_file: Path) -> None:
    settings_file.write_text("log_level = \n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="is not valid TOML"):
        load_settings()


def test_a_url_is_never_echoed_back_in_an_error(settings_file: Path) -> None:
    settings_file.write_text('central_url = ["postgresql://u:hunter2@db/x"]\n', encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_settings()
    assert "central_url (IAMEDIC_CENTRAL_URL)" in caught.value.message
    assert "hunter2" not in caught.value.message


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_settings()
    monkeypatch.setenv("IAMEDIC_LOG_LEVEL", "ERROR")
    assert get_settings() is first


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clinic@db.example.org:5432/iamedic",
        "postgresql+psycopg2://clinic@db.example.org/iamedic",
        "postgres://clinic@db.example.org/iamedic",
    ],
)
def test_the_accepted_central_url_forms(url: str) -> None:
    assert Settings(central_url=url).central_url == url


@pytest.mark.parametrize(
    "url",
    [
        "mysql://clinic:hunter2@db/iamedic",
        "sqlite:///central.sqlite3",
        "postgresql+asyncpg://clinic:hunter2@db/iamedic",
        "postgresql+psycopg://clinic@db/iamedic",
        "garbage",
        "postgresql://clinic@db:port/iamedic",
    ],
)
def test_another_central_url_is_a_bad_setting(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IAMEDIC_CENTRAL_URL", url)
    with pytest.raises(InvalidInputError) as caught:
        load_settings()
    message = caught.value.message
    assert "central_url (IAMEDIC_CENTRAL_URL)" in message
    assert "postgresql://" in message and "postgresql+psycopg2://" in message
    assert "hunter2" not in message
    assert "localhost" not in message and "5432" not in message
    assert list(tmp_path.glob("*.sqlite3")) == []


def test_an_empty_central_url_means_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMEDIC_CENTRAL_URL", "")
    assert Settings().central_url is None


@pytest.mark.parametrize("setting", ["data_dir", "cache_dir"])
@pytest.mark.parametrize("below", [False, True], ids=["the-file", "inside-the-file"])
def test_a_folder_setting_that_names_a_file_is_a_bad_setting(
    setting: str, below: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(f"IAMEDIC_{setting.upper()}", str(afile / "store" if below else afile))
    with pytest.raises(InvalidInputError) as caught:
        load_settings()
    message = caught.value.message
    assert f"{setting} (IAMEDIC_{setting.upper()})" in message
    assert f"{afile} is a file, not a folder" in message
    assert afile.read_text(encoding="utf-8") == "not a folder"
