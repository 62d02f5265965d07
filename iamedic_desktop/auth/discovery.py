"""The identity provider's endpoints, read from its OpenID Connect discovery document."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from iamedic_desktop.core.errors import AuthenticationError

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TIMEOUT_SECONDS = 15.0


class ProviderUnreachableError(AuthenticationError):
    """The identity provider cannot be reached now: a session stored earlier may still serve."""


@dataclass(frozen=True)
class Provider:
    """Where to send the browser, exchange codes and fetch the signing keys."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str

    @property
    def is_loopback(self) -> bool:
        """True for a stand-in provider on this machine (plain http is allowed only there)."""
        return urlsplit(self.issuer).hostname in LOOPBACK_HOSTS


def is_secure_url(url: str) -> bool:
    """An https address, or plain http to this machine only."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def discover(issuer: str, *, timeout: float = TIMEOUT_SECONDS) -> Provider:
    """Read the issuer's discovery document; an AuthenticationError says what is wrong."""
    import httpx  # only when signing in

    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        log.warning("⚠️ Identity provider %s unreachable (%s)", issuer, exc.__class__.__name__)
        raise ProviderUnreachableError(
            f"The sign-in service {issuer} cannot be reached: check the network connection, "
            "or the identity provider in the settings."
        ) from None
    if response.status_code >= 500:
        raise ProviderUnreachableError(
            f"The sign-in service {issuer} is unavailable (HTTP {response.status_code}): "
            "try again later."
        )
    try:
        document = response.json() if response.status_code == 200 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise AuthenticationError(
            f"{issuer} does not describe an OpenID Connect sign-in service "
            f"(HTTP {response.status_code} for its discovery document): check the identity "
            "provider in the settings."
        )
    return _provider(issuer, document)


def _provider(issuer: str, document: dict[str, object]) -> Provider:
    fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    values = {name: document.get(name) for name in fields}
    missing = [name for name, value in values.items() if not isinstance(value, str) or not value]
    if missing:
        raise AuthenticationError(
            f"The sign-in service {issuer} does not name its {', '.join(missing)}: "
            "check the identity provider in the settings."
        )
    provider = Provider(**{name: str(value) for name, value in values.items()})
    # OpenID Connect Discovery 4.3: the document must speak for the issuer it was fetched from.
    if provider.issuer.rstrip("/") != issuer.rstrip("/"):
        raise AuthenticationError(
            f"The sign-in service at {issuer} claims to be {provider.issuer}: "
            "check the identity provider in the settings."
        )
    insecure = [name for name in fields if not is_secure_url(getattr(provider, name))]
    if insecure:
        raise AuthenticationError(
            f"The sign-in service {issuer} names addresses that are not https "
            f"({', '.join(insecure)}): sign-in refused."
        )
    return provider
