"""Verify the provider's ID token: signature (JWKS), audience, issuer, expiry and nonce."""

from __future__ import annotations

import logging
from typing import Any

from iamedic_desktop.auth.discovery import (
    TIMEOUT_SECONDS,
    Provider,
    ProviderUnreachableError,
)
from iamedic_desktop.core.errors import AuthenticationError

log = logging.getLogger(__name__)

CLOCK_SKEW_SECONDS = 30
# Google's ID tokens name their issuer with or without the scheme.
_ISSUER_ALIASES = {"https://accounts.google.com": {"accounts.google.com"}}


def verify_id_token(
    token: str, *, provider: Provider, client_id: str, nonce: str | None = None
) -> dict[str, Any]:
    """The verified claims of ``token``; AuthenticationError (saying which check failed) if not."""
    from google.auth import jwt

    keys = signing_keys(provider)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, certs=keys, audience=client_id, clock_skew_in_seconds=CLOCK_SKEW_SECONDS
        )
    except ValueError as exc:
        reason = _reason(str(exc), provider)
        # google-auth may quote the token in its message: only the reason is kept.
        log.warning("⚠️ ID token refused: %s", reason)
        raise AuthenticationError(f"The sign-in was refused: {reason}.") from None
    issuers = {provider.issuer, *_ISSUER_ALIASES.get(provider.issuer, set())}
    if claims.get("iss") not in issuers:
        log.warning("⚠️ ID token refused: wrong issuer")
        raise AuthenticationError(
            f"The sign-in was refused: the identity token was not issued by {provider.issuer}."
        )
    if nonce is not None and claims.get("nonce") != nonce:
        raise AuthenticationError(
            "The sign-in was refused: the identity token answers another sign-in request."
        )
    if not claims.get("sub") or not claims.get("email"):
        raise AuthenticationError(
            "The sign-in was refused: the identity provider did not give an e-mail address "
            "(the 'email' scope is needed)."
        )
    if str(claims.get("email_verified", True)).lower() == "false":
        raise AuthenticationError(
            "The sign-in was refused: the identity provider has not verified this e-mail address."
        )
    return claims


def signing_keys(provider: Provider) -> dict[str, bytes]:
    """The provider's RSA signing keys as PEM, by key id, from its JWKS."""
    import httpx

    try:
        response = httpx.get(provider.jwks_uri, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except httpx.HTTPError as exc:
        log.warning("⚠️ Signing keys unreachable (%s)", exc.__class__.__name__)
        raise ProviderUnreachableError(
            f"The signing keys of {provider.issuer} cannot be fetched: try again later."
        ) from None
    except ValueError:
        document = None
    keys = {}
    for jwk in document.get("keys", []) if isinstance(document, dict) else []:
        if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig":
            try:
                keys[str(jwk.get("kid", ""))] = _rsa_pem(jwk)
            except (KeyError, ValueError, TypeError):
                continue  # a key this workstation cannot read cannot vouch for a token either
    if not keys:
        raise AuthenticationError(
            f"The sign-in service {provider.issuer} publishes no usable signing key."
        )
    return keys


def _rsa_pem(jwk: dict[str, Any]) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    key = RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _int(value: str) -> int:
    import base64

    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _reason(message: str, provider: Provider) -> str:
    lowered = message.lower()
    if "signature" in lowered or "certificate for key id" in lowered:
        return f"the identity token is not signed by {provider.issuer}"
    if "expired" in lowered:
        return "the identity token has expired (check this computer's date and time)"
    if "too early" in lowered:
        return "the identity token is not valid yet (check this computer's date and time)"
    if "audience" in lowered:
        return "the identity token was issued for another application, not this workstation"
    return "the identity token is malformed"
