"""The one settings source: defaults < settings file < .env < IAMEDIC_* environment variables.

Secrets never live here: the central database password comes from the OS keyring
(``auth/secrets.py``), window geometry from QSettings.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from platformdirs import user_cache_dir, user_config_dir, user_data_dir
from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from iamedic_desktop.core.errors import InvalidInputError, StorageError

APP_NAME = "iamedic"
# libpq's TLS modes; "allow" is left out on purpose: it never asks for encryption.
SSL_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
CLASSIFIER_MODEL_NAME = "frame_classifier_224x224"
BOX_MODEL_NAME = "fetal_structures_bb_regressor_224x224"


def default_settings_file() -> Path:
    """Where the settings file lives unless ``IAMEDIC_SETTINGS_FILE`` names another."""
    override = os.environ.get("IAMEDIC_SETTINGS_FILE")
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir(APP_NAME)) / "settings.toml"


class Settings(BaseSettings):
    """Typed settings of the workstation; read once per process by ``get_settings()``."""

    model_config = SettingsConfigDict(
        env_prefix="IAMEDIC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir(APP_NAME)),
        description="Local store, media files and logs.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path(user_cache_dir(APP_NAME)),
        description="Thumbnails and decoded-frame caches; safe to delete.",
    )
    central_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the central PostgreSQL, without its password.",
    )
    central_keyring_service: str = Field(
        default="iamedic-central-db",
        description="Keyring service under which the central database password is stored.",
    )
    central_media_dir: Path | None = Field(
        default=None,
        description="Where the web's media folder is mounted on this workstation, for a "
        "deployment whose central files are stored in that folder.",
    )
    fetch_media: Literal["on_demand", "eager"] = Field(
        default="on_demand",
        description="When the files of media pulled from the central database are fetched: "
        "on_demand = when a media is opened (or by `iamedic media fetch`); eager = every "
        "pulled media's file is fetched right after the pull.",
    )
    log_level: str = "INFO"
    log_max_bytes: int = Field(default=5 * 1024 * 1024, ge=64 * 1024)
    log_backups: int = Field(default=5, ge=1, le=50)
    local_user_email: str = Field(
        default="local@iamedic.invalid",
        description="E-mail of the single user of a store never connected to a central database.",
    )
    local_user_name: str = "Local clinician"
    probe_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Time limit for inspecting one untrusted file in a child process.",
    )
    frame_cache_mb: int = Field(
        default=512,
        ge=16,
        description="Memory for decoded frames around the playhead, per open video.",
    )
    readahead_frames: int = Field(
        default=24,
        ge=0,
        description="Frames decoded ahead of the playhead in a worker.",
    )
    classifier_model: str | None = Field(
        default=None,
        description="The frame classifier's model version in use (`<name> - <version>`); "
        "None: no model on this workstation (predictions come only from the web, by sync).",
    )
    oauth_client_id: str | None = Field(
        default=None,
        description="OAuth client id of this workstation at the identity provider.",
    )
    oauth_client_secret: str | None = Field(
        default=None,
        description="The client's 'installed app' secret where the provider issues one; "
        "not confidential, yet never logged.",
    )
    oauth_issuer: str = Field(
        default="https://accounts.google.com",
        description="Identity provider; its /.well-known/openid-configuration names the endpoints.",
    )
    offline_days: int = Field(
        default=7,
        ge=0,
        description="Days a user signed in online may keep working offline.",
    )
    language: Literal["en"] = Field(default="en", description="Language of the window.")
    theme: Literal["dark"] = Field(default="dark", description="Colours of the window.")
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking server whose registry names the models in use.",
    )
    classifier_model_name: str = Field(
        default=CLASSIFIER_MODEL_NAME, min_length=1, description="Registered classifier model."
    )
    box_model_name: str = Field(
        default=BOX_MODEL_NAME, min_length=1, description="Registered box model."
    )
    model_alias: str = Field(
        default="champion",
        min_length=1,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The registry alias naming the model version in use.",
    )
    inference: Literal["local", "http"] = Field(
        default="local",
        description="Run the models on this workstation or ask the web's inference services.",
    )
    classifier_service_url: str | None = Field(
        default=None, description="The web's classifier inference service (HTTP inference)."
    )
    box_service_url: str | None = Field(
        default=None, description="The web's box inference service (HTTP inference)."
    )
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description="Keyboard shortcuts changed by the user: action name -> key sequence(s).",
    )

    @field_validator("data_dir", "cache_dir", mode="after")
    @classmethod
    def _folder(cls, value: Path) -> Path:
        path = value.expanduser().resolve()
        # The nearest part that exists must be a folder: the rest is created at start-up.
        existing = next((p for p in (path, *path.parents) if _exists(p)), None)
        if existing is not None and not existing.is_dir():
            raise ValueError(f"{existing} is a file, not a folder")
        return path

    @field_validator("central_url", mode="after")
    @classmethod
    def _central(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # no central database: local mode
        # SQLAlchemy is loaded only when a central database is configured.
        from iamedic_desktop.core.database import central_engine_url

        try:
            url = central_engine_url(value)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
        _check_tls(url.query)  # the paths as libpq gets them: ~ expanded
        return value

    @field_validator("mlflow_tracking_uri", mode="after")
    @classmethod
    def _tracking(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # A registry on this machine or a shared drive: MLflow's own database and file URIs.
        if value.strip().startswith(("sqlite:///", "file:", "postgresql://", "databricks")):
            return value.strip()
        try:
            return _web_address(value, "the MLflow tracking server")
        except ValueError:
            raise ValueError(
                "the MLflow tracking URI must be an http:// or https:// address with a host, "
                "or a sqlite:///, file: or postgresql:// URI of a registry"
            ) from None

    @field_validator("classifier_service_url", "box_service_url", mode="after")
    @classmethod
    def _service(cls, value: str | None, info: ValidationInfo) -> str | None:
        what = (
            "the classifier service"
            if info.field_name == "classifier_service_url"
            else ("the box service")
        )
        if value is None or not value.strip():
            if info.data.get("inference") == "http":
                raise ValueError(f"HTTP inference needs the address of {what}")
            return None
        return _web_address(value, what)

    @field_validator("oauth_client_id", "oauth_client_secret", mode="after")
    @classmethod
    def _oauth_client(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("oauth_issuer", mode="after")
    @classmethod
    def _issuer(cls, value: str) -> str:
        issuer = value.strip()
        parts = urlsplit(issuer)
        # Plain http is allowed only on this machine: the stand-in provider used offline.
        local = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if not (parts.scheme == "https" and parts.hostname) and not local:
            raise ValueError(
                f"the identity provider {value!r} must be an https:// address "
                "(or http://127.0.0.1 for a local test provider)"
            )
        return issuer

    @field_validator("classifier_model", mode="after")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("log_level", mode="after")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return upper

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: explicit arguments, then the environment, then .env, then the
        # settings file; the field defaults come last.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_settings_file())
        return (init_settings, env_settings, dotenv_settings, toml)

    @property
    def local_db_path(self) -> Path:
        """The embedded SQLite store."""
        return self.data_dir / "iamedic.sqlite3"

    @property
    def local_db_url(self) -> str:
        """SQLAlchemy URL of the embedded store."""
        return f"sqlite:///{self.local_db_path}"

    @property
    def media_dir(self) -> Path:
        """The local media store: one file per ``file_path`` key."""
        return self.data_dir / "media"

    @property
    def log_dir(self) -> Path:
        """The rotating log files."""
        return self.data_dir / "logs"

    def ensure_dirs(self) -> None:
        """Create the data, media, log and cache directories."""
        for path in (self.data_dir, self.media_dir, self.log_dir, self.cache_dir):
            make_folder(path)


def _web_address(value: str, what: str) -> str:
    address = value.strip()
    parts = urlsplit(address)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{what} must be an http:// or https:// address with a host")
    return address


def _check_tls(query: Any) -> None:
    """The TLS files the central URL names are files (the TLS mode was checked with the URL).

    ``sslrootcert=system`` is libpq's word for the operating system's trusted CAs.
    """
    for key, what in (
        ("sslrootcert", "the CA file"),
        ("sslcert", "the client certificate"),
        ("sslkey", "the client key"),
    ):
        path = query.get(key)
        if key == "sslrootcert" and path == "system":
            continue
        if path is not None and not Path(str(path)).is_file():
            raise ValueError(f"{what} ({key}) {path} is not a file")


def make_folder(path: Path) -> None:
    """Create ``path`` and its parents; a failure is a StorageError that says why."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise StorageError(
            f"{path} is a file, not a folder: move it away or choose another folder."
        ) from exc
    except OSError as exc:
        raise StorageError(f"The folder {path} cannot be created: {exc.strerror or exc}.") from exc


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # not even readable: its parent is checked, and mkdir will say why
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings()


def reset_settings_cache(**_: Any) -> None:
    """Forget the cached settings (tests and the settings dialog re-read them)."""
    get_settings.cache_clear()
