"""Secrets from the OS keyring: never from a file, never printed, never logged.

The central database URL in the settings carries no password; the password is stored in the
keyring under ``settings.central_keyring_service`` with the URL's user name.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from iamedic_desktop.core.database import central_engine_url
from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)


def keyring_password(service: str, username: str) -> str | None:
    """The password the keyring holds for ``username`` under ``service``, if any."""
    import keyring  # backends probe D-Bus and friends on import: only when a secret is needed
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(service, username)
    except KeyringError as exc:
        # No usable keyring (a headless machine, trust authentication): the URL is used as is.
        log.info("🔧 No keyring available for %s (%s)", service, exc.__class__.__name__)
        return None


def central_url(settings: Settings) -> str:
    """The central database URL (psycopg2) with its password from the keyring if it has none."""
    if not settings.central_url:
        raise InvalidInputError(
            "No central database is configured: set IAMEDIC_CENTRAL_URL or central_url in the "
            "settings file."
        )
    url = central_engine_url(settings.central_url)
    if url.password is None and url.username:
        password = keyring_password(settings.central_keyring_service, url.username)
        if password is not None:
            url = url.set(password=password)
            log.info("🔧 Central database password taken from the keyring")
    return url.render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """``url`` fit for a message or a log line: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<not a URL>"
