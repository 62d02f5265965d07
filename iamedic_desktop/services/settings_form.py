"""The settings dialog's form without Qt: fields to a candidate Settings, errors to fields, save.

The form holds text as typed. ``validate_form`` builds the central URL from its parts (a URL
without password; the query settings without a field of their own, such as a client
certificate's ``sslcert``/``sslkey`` or ``application_name``, travel in "Other URL options", so
a save keeps them), then a candidate ``Settings`` from every field, so the model's own rules
decide; each refusal is mapped back to the field it concerns. ``save_form`` writes the
settings file once, atomically, and only then puts the central password in the keyring; if the
keyring refuses, the previous file is put back, so nothing is half-saved.

Threading: ``validate_form`` reads the file system (the data folder, the CA file) and
``save_form`` writes: run both in a worker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url

from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.settings import Settings, reset_settings_cache
from iamedic_desktop.core.settings_file import (
    restore_settings_file,
    save_settings,
    settings_file_text,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 5432
CENTRAL_PARTS = ("central_host", "central_port", "central_database", "central_user")
TLS_PARTS = ("central_sslmode", "central_sslrootcert")
OPTIONS = "central_options"
# Query settings a field of the form stands for: never taken from "Other URL options".
_FIELD_OF_KEY = {
    "host": "Host",
    "hostaddr": "Host",
    "port": "Port",
    "dbname": "Database",
    "user": "User",
    "password": "Password",
    "sslmode": "TLS mode",
    "sslrootcert": "CA file",
}
# What the dialog edits and the file keeps; every other setting in the file is left as it is.
SAVED_FIELDS = (
    "language",
    "data_dir",
    "theme",
    "central_url",
    "fetch_media",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_issuer",
    "offline_days",
    "mlflow_tracking_uri",
    "classifier_model_name",
    "box_model_name",
    "model_alias",
    "inference",
    "classifier_service_url",
    "box_service_url",
    "keymap",
)
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
_NAME = re.compile(r"^[^\s/?#@:]+$")


@dataclass(frozen=True)
class FormResult:
    """A checked form: the candidate settings, or the reason for each refused field."""

    settings: Settings | None
    errors: dict[str, str]


def central_parts(url: str | None) -> dict[str, str]:
    """The central URL setting split into the form's fields (all empty in local mode)."""
    parts = dict.fromkeys((*CENTRAL_PARTS, *TLS_PARTS), "")
    if not url:
        return parts
    parsed = make_url(url)
    parts.update(
        central_host=parsed.host or "",
        central_port=str(parsed.port or ""),
        central_database=parsed.database or "",
        central_user=parsed.username or "",
        central_sslmode=str(parsed.query.get("sslmode", "")),
        central_sslrootcert=str(parsed.query.get("sslrootcert", "")),
    )
    return parts


def central_options(url: str | None) -> str:
    """The central URL's query settings that have no field of their own, as ``a=1&b=2``."""
    if not url:
        return ""
    query = make_url(url).query
    pairs = [
        (key, item)
        for key, value in query.items()
        if key not in _FIELD_OF_KEY
        for item in ((value,) if isinstance(value, str) else value)
    ]
    return urlencode(pairs, safe="/~:")


def _options(text: str, errors: dict[str, str]) -> dict[str, tuple[str, ...]]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True) if text else []
    except ValueError:
        errors[OPTIONS] = "Write the options as name=value pairs joined by &."
        return {}
    query: dict[str, tuple[str, ...]] = {}
    for key, value in pairs:
        if key in _FIELD_OF_KEY:
            errors[OPTIONS] = f"Set {key} in the {_FIELD_OF_KEY[key]} field, not here."
            return {}
        query[key] = (*query.get(key, ()), value)
    return query


def compose_central_url(fields: Mapping[str, str], errors: dict[str, str]) -> str | None:
    """The central URL (without password) from its parts; a bad part is added to ``errors``."""
    host, port, database, user = (fields.get(name, "").strip() for name in CENTRAL_PARTS)
    mode = fields.get("central_sslmode", "").strip()
    root = fields.get("central_sslrootcert", "").strip()
    options = fields.get(OPTIONS, "").strip()
    if not (host or port or database or user or root or options or fields.get("central_password")):
        return None  # no central database: local mode
    if not host:
        errors["central_host"] = "The host is needed for a central database."
    elif not _HOST.match(host):
        errors["central_host"] = f"'{host}' is not a host name or an IP address."
    number = DEFAULT_PORT
    if port:
        number = int(port) if port.isdigit() else 0
        if not 1 <= number <= 65535:
            errors["central_port"] = "The port is a number from 1 to 65535."
    for name, value, what in (
        ("central_database", database, "database"),
        ("central_user", user, "user"),
    ):
        if not value:
            errors[name] = f"The {what} name is needed for a central database."
        elif not _NAME.match(value):
            errors[name] = f"The {what} name cannot hold spaces or / ? # @ :."
    extra = _options(options, errors)
    if any(name in errors for name in (*CENTRAL_PARTS, OPTIONS)):
        return None
    query: dict[str, str | tuple[str, ...]] = {**extra}
    if mode:
        query["sslmode"] = mode
    if root:
        query["sslrootcert"] = str(Path(root).expanduser())
    url = URL.create(
        "postgresql", username=user, host=host, port=number, database=database, query=query
    )
    return url.render_as_string(hide_password=False)


def _field_of(loc: tuple[Any, ...], message: str) -> str:
    name = str(loc[0]) if loc else "form"
    if name == "central_url":
        if "sslmode" in message:
            return "central_sslmode"
        if "sslrootcert" in message:
            return "central_sslrootcert"
        if "sslcert" in message or "sslkey" in message:
            return OPTIONS
        return "central_host"
    return name


def _reason(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in {"int_parsing", "int_from_float"}:
        message = "Write a whole number."
    elif error["type"] == "greater_than_equal":
        message = f"Write a number of at least {error['ctx']['ge']}."
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def validate_form(fields: Mapping[str, Any]) -> FormResult:
    """Check every field through the Settings model; the reasons are keyed by form field."""
    errors: dict[str, str] = {}
    values = {name: fields[name] for name in SAVED_FIELDS if name in fields}
    values["central_url"] = compose_central_url(fields, errors)
    for name in ("data_dir", "offline_days"):
        if isinstance(values.get(name), str) and not values[name].strip():
            errors[name] = "This field cannot be empty."
            values.pop(name)
    try:
        candidate = Settings(**values)
    except ValidationError as exc:
        for error in exc.errors():
            name = _field_of(tuple(error["loc"]), str(error["msg"]))
            errors.setdefault(name, _reason(error))
        return FormResult(None, errors)
    if fields.get("central_password") and candidate.central_url is None:
        errors.setdefault("central_user", "A password needs a central database and its user.")
    return FormResult(None if errors else candidate, errors)


def save_form(candidate: Settings, password: str | None, path: Path | None = None) -> Path:
    """Write the dialog's settings once; then the password, or the old file back if it fails."""
    from iamedic_desktop.auth.secrets import store_central_password

    previous = settings_file_text(path)
    written = save_settings({name: getattr(candidate, name) for name in SAVED_FIELDS}, path)
    if password:
        try:
            store_central_password(candidate, password)
        except IamedicError:
            restore_settings_file(previous, path)
            log.warning("⚠️ Settings not saved: the keyring refused the central password")
            raise
    reset_settings_cache()
    return written
