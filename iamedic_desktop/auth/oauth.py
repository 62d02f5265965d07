"""Sign-in with the identity provider as a native app: browser, loopback redirect, PKCE, state.

The OAuth client and the provider come from the settings (Google by default). The ID token is
verified (signature, audience, issuer, expiry, nonce) before anything is returned. Tokens and
codes are never logged nor put in a message.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from iamedic_desktop.auth.discovery import (
    TIMEOUT_SECONDS,
    Provider,
    ProviderUnreachableError,
    discover,
)
from iamedic_desktop.auth.id_token import verify_id_token
from iamedic_desktop.auth.loopback import LoopbackReceiver
from iamedic_desktop.core.errors import AuthenticationError
from iamedic_desktop.core.settings import Settings

__all__ = ["ProviderUnreachableError", "SignedIn", "refresh", "sign_in"]

log = logging.getLogger(__name__)

SCOPES = ["openid", "email", "profile"]

# These libraries write authorization codes and tokens in their debug messages.
for _name in ("oauthlib", "requests_oauthlib", "google_auth_oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, as the verified ID token says, and the refresh token for the keyring."""

    email: str
    name: str
    subject: str
    refresh_token: str | None = field(repr=False)
    expires_at: datetime


def sign_in(
    settings: Settings,
    *,
    open_browser: bool = True,
    on_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    cancelled: Callable[[], bool] | None = None,
) -> SignedIn:
    """Run the whole browser sign-in; ``on_url`` receives the authorization URL first.

    Blocks until the browser's answer, ``timeout`` or ``cancelled()``: run it off the UI thread.
    """
    client_id, client_secret = _client(settings)
    provider = discover(settings.oauth_issuer)
    _configure_oauthlib(provider)
    from google_auth_oauthlib.flow import Flow

    receiver = LoopbackReceiver()
    try:
        flow = Flow.from_client_config(
            {"installed": _client_config(provider, client_id, client_secret)},
            scopes=SCOPES,
            redirect_uri=receiver.redirect_uri,
            autogenerate_code_verifier=True,  # PKCE S256
        )
        nonce = secrets.token_urlsafe(24)
        # select_account: several people share a workstation; consent: a refresh token each time.
        url, state = flow.authorization_url(
            access_type="offline", prompt="select_account consent", nonce=nonce
        )
        log.info("🚀 Sign-in started with %s", provider.issuer)
        if on_url is not None:
            on_url(url)
        if open_browser:
            _open_browser(url)
        answer = receiver.wait(timeout, cancelled)
    finally:
        receiver.close()
    code = _code(answer, state)
    token = _exchange(flow, code, client_secret)
    claims = verify_id_token(_id_token(token), provider=provider, client_id=client_id, nonce=nonce)
    log.info("✅ Signed in with %s", provider.issuer)
    return _signed_in(claims, token.get("refresh_token"))


def refresh(settings: Settings, refresh_token: str) -> SignedIn:
    """A fresh, verified identity for a stored refresh token (the refresh_token grant).

    Blocking network calls: off the UI thread. ProviderUnreachableError means "offline, try
    later"; any other AuthenticationError means the session is over.
    """
    import httpx

    client_id, client_secret = _client(settings)
    provider = discover(settings.oauth_issuer)
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    try:
        response = httpx.post(provider.token_endpoint, data=form, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        log.warning("⚠️ Token endpoint unreachable (%s)", exc.__class__.__name__)
        raise ProviderUnreachableError(
            f"The sign-in service {provider.issuer} cannot be reached: try again later."
        ) from None
    if response.status_code >= 500:
        raise ProviderUnreachableError(
            f"The sign-in service {provider.issuer} is unavailable (HTTP "
            f"{response.status_code}): try again later."
        )
    body = _json(response)
    if response.status_code != 200:
        error = _error_code(body.get("error"))
        log.warning("⚠️ Session refresh refused (%s)", error)
        if error == "invalid_grant":
            raise AuthenticationError(
                "Your sign-in has expired or was withdrawn at the identity provider: sign in again."
            )
        raise AuthenticationError(f"The identity provider refused the session refresh ({error}).")
    claims = verify_id_token(_id_token(body), provider=provider, client_id=client_id)
    log.info("🔄 Session refreshed with %s", provider.issuer)
    return _signed_in(claims, body.get("refresh_token") or refresh_token)


def _client(settings: Settings) -> tuple[str, str | None]:
    if not settings.oauth_client_id:
        raise AuthenticationError(
            "Sign-in is not set up on this workstation: set the OAuth client id "
            "(oauth_client_id in the settings, or IAMEDIC_OAUTH_CLIENT_ID)."
        )
    return settings.oauth_client_id, settings.oauth_client_secret


def _client_config(provider: Provider, client_id: str, secret: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "client_id": client_id,
        "auth_uri": provider.authorization_endpoint,
        "token_uri": provider.token_endpoint,
        "redirect_uris": ["http://127.0.0.1"],
    }
    if secret:
        config["client_secret"] = secret
    return config


def _configure_oauthlib(provider: Provider) -> None:
    # oauthlib reads its switches only from the environment. The granted scopes are not relied
    # on (the verified ID token is), and Google answers with longer names than it was asked for.
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    if provider.is_loopback:
        # Plain http only ever reaches this machine: the settings and discovery refuse the rest.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def _open_browser(url: str) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(url, new=1, autoraise=True)
    except webbrowser.Error:
        opened = False
    if not opened:
        raise AuthenticationError(
            "No web browser could be opened for the sign-in: use `iamedic login --no-browser` "
            "and open the address it prints."
        )


def _code(answer: dict[str, str], state: str) -> str:
    # The state ties the answer to this request: anything else could be an attacker's code.
    if not secrets.compare_digest(answer.get("state", "").encode(), state.encode()):
        log.warning("⚠️ Sign-in answer refused: state mismatch")
        raise AuthenticationError(
            "The sign-in was refused: the answer does not belong to this sign-in request "
            "(state mismatch). Sign in again."
        )
    if "error" in answer:
        error = _error_code(answer["error"])
        if error == "access_denied":
            raise AuthenticationError("The sign-in was cancelled at the identity provider.")
        raise AuthenticationError(f"The identity provider refused the sign-in ({error}).")
    return answer["code"]


def _exchange(flow: Any, code: str, client_secret: str | None) -> dict[str, Any]:
    import requests
    from oauthlib.oauth2 import OAuth2Error

    try:
        # The PKCE verifier and the redirect URI go with the code; a client without a secret
        # (a public client) names itself in the form instead of basic authentication.
        return dict(
            flow.fetch_token(
                code=code,
                client_secret=client_secret,
                include_client_id=client_secret is None,
                timeout=TIMEOUT_SECONDS,
            )
        )
    except OAuth2Error as exc:
        error = _error_code(exc.error)
        detail = _detail(exc.description)
        log.warning("⚠️ Code exchange refused (%s: %s)", error, detail)
        raise AuthenticationError(
            f"The identity provider refused the sign-in ({error}: {detail or 'no detail'})."
        ) from None
    except requests.RequestException as exc:
        log.warning("⚠️ Token endpoint unreachable (%s)", exc.__class__.__name__)
        raise ProviderUnreachableError(
            "The sign-in service cannot be reached to finish the sign-in: try again."
        ) from None


def _id_token(token: dict[str, Any]) -> str:
    value = token.get("id_token")
    if not isinstance(value, str) or not value:
        raise AuthenticationError(
            "The identity provider answered without an identity token (the 'openid' scope "
            "is needed)."
        )
    return value


def _signed_in(claims: dict[str, Any], refresh_token: Any) -> SignedIn:
    email = str(claims["email"]).strip()
    return SignedIn(
        email=email,
        name=str(claims.get("name") or email),
        subject=str(claims["sub"]),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(value: Any) -> str:
    # Provider error codes are shown to people: keep them short and free of markup.
    match = re.match(r"[a-z_]{1,60}", str(value or "").lower())
    return match.group() if match else "unknown_error"


def _detail(value: Any) -> str:
    return re.sub(r"[^\w .,:'()-]", "", str(value or ""))[:120]
