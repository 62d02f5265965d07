"""Secrets in the OS keyring: never in a file, never printed, never logged.

The central database URL in the settings carries no password; the password is stored in the
keyring under ``settings.central_keyring_service`` with the URL's user name. The Google refresh
token of a signed-in user is stored under ``OAUTH_KEYRING_SERVICE`` with the user's e-mail.
Messages name the service and the user, never the secret.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from iamedic_desktop.core.database import central_engine_url
from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)

OAUTH_KEYRING_SERVICE = "iamedic-oauth"


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


def _set_secret(service: str, username: str, secret: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(service, username, secret)
    except KeyringError as exc:
        # The keyring's own message is not repeated: some backends echo what they were given.
        raise StorageError(
            f"No keyring could keep the secret for {username} ({exc.__class__.__name__}): "
            "unlock or install the system keyring (Secret Service, Keychain, Credential "
            "Manager) and try again."
        ) from None


def _delete_secret(service: str, username: str) -> bool:
    """Remove a secret; False when there was none (or no keyring to hold one)."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(service, username)
    except PasswordDeleteError:
        return False
    except KeyringError as exc:
        log.warning("⚠️ The keyring could not be cleared for %s (%s)", service, type(exc).__name__)
        return False
    return True


def store_refresh_token(email: str, token: str) -> None:
    """Keep a signed-in user's refresh token in the keyring (StorageError without one)."""
    _set_secret(OAUTH_KEYRING_SERVICE, email, token)


def stored_refresh_token(email: str) -> str | None:
    """The refresh token kept for ``email``, if any."""
    return keyring_password(OAUTH_KEYRING_SERVICE, email)


def forget_refresh_token(email: str) -> bool:
    """Remove the refresh token of ``email`` from the keyring; False when none was kept."""
    return _delete_secret(OAUTH_KEYRING_SERVICE, email)


def _central_username(settings: Settings) -> str:
    url = central_engine_url(central_url_setting(settings))
    if not url.username:
        raise InvalidInputError(
            "The central database URL names no user: write it as postgresql://user@host/db."
        )
    return url.username


def central_url_setting(settings: Settings) -> str:
    """The configured central URL; InvalidInputError when none is set."""
    if not settings.central_url:
        raise InvalidInputError(
            "No central database is configured: set IAMEDIC_CENTRAL_URL or central_url in the "
            "settings file."
        )
    return settings.central_url


def store_central_password(
    settings: Settings, password: str, *, username: str | None = None
) -> None:
    """Keep the central database password of the configured URL's user (or of ``username``,
    a login about to become the URL's user) in the keyring."""
    user = username or _central_username(settings)
    _set_secret(settings.central_keyring_service, user, password)
    log.info("🔧 Central database password kept in the keyring")


def forget_central_password(settings: Settings) -> bool:
    """Remove the central database password from the keyring (sign-out); False when none."""
    if not settings.central_url:
        return False
    return _delete_secret(settings.central_keyring_service, _central_username(settings))


def central_url(settings: Settings) -> str:
    """The central database URL (psycopg2) with its password from the keyring if it has none."""
    url = central_engine_url(central_url_setting(settings))
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
