"""The stand-in provider speaks the protocol strictly, and a wrong provider is named clearly."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from iamedic_desktop.auth.discovery import discover
from iamedic_desktop.auth.oauth import sign_in
from iamedic_desktop.core.errors import AuthenticationError
from iamedic_desktop.core.settings import Settings
from tests.support.idp import IdpHandle, running_idp

VERIFIER = "v" * 50
REDIRECT = "http://127.0.0.1:9/"


@pytest.fixture
def idp() -> Iterator[IdpHandle]:
    with running_idp("ada.doctor@example.org") as handle:
        yield handle


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def authorize(idp: IdpHandle, **changes: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": idp.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "s1",
        "code_challenge": challenge(VERIFIER),
        "code_challenge_method": "S256",
    } | changes
    answer = httpx.get(f"{idp.issuer_url}/authorize?{urlencode(query)}")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert location.netloc == "127.0.0.1:9"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(idp: IdpHandle, code: str, **changes: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret or "",
    } | changes
    return httpx.post(f"{idp.issuer_url}/token", data=form)


def test_the_token_endpoint_checks_verifier_client_redirect_and_single_use(
    idp: IdpHandle,
) -> None:
    for changes, error in [
        ({"code_verifier": "w" * 50}, "invalid_grant"),
        ({"client_secret": "guessed"}, "invalid_client"),
        ({"redirect_uri": "http://127.0.0.1:10/"}, "invalid_grant"),
    ]:
        code = authorize(idp)["code"]
        refused = exchange(idp, code, **changes)
        assert (refused.status_code, refused.json()["error"]) in {(400, error), (401, error)}
    code = authorize(idp)["code"]
    assert exchange(idp, code).status_code == 200
    assert exchange(idp, code).json()["error"] == "invalid_grant"  # a code is good once


def test_the_authorization_endpoint_requires_pkce_s256_and_openid(idp: IdpHandle) -> None:
    assert authorize(idp, code_challenge_method="plain")["error"] == "invalid_request"
    assert authorize(idp, scope="email")["error"] == "invalid_request"
    assert authorize(idp)["state"] == "s1"
    outside = httpx.get(
        f"{idp.issuer_url}/authorize?"
        + urlencode({"client_id": idp.client_id, "redirect_uri": "https://evil.example/"})
    )
    assert outside.status_code == 400  # never redirected off this machine


def test_an_issuer_without_a_discovery_document_is_named(idp: IdpHandle) -> None:
    settings = Settings(oauth_issuer=f"{idp.issuer_url}/nowhere", oauth_client_id="c")
    with pytest.raises(AuthenticationError, match="does not describe an OpenID Connect"):
        sign_in(settings, open_browser=False)


def test_a_discovery_document_of_another_issuer_is_refused(idp: IdpHandle) -> None:
    with pytest.raises(AuthenticationError, match=r"claims to be http://127\.0\.0\.1"):
        discover(f"http://localhost:{idp.port}")


def test_the_stand_in_runs_from_the_command_line() -> None:
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.idp", "--port", "0", "--email", "a@b.org"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        values = dict(line.split("=", 1) for line in lines)
        issuer = values["IAMEDIC_OAUTH_ISSUER"]
        assert values["IAMEDIC_OAUTH_CLIENT_ID"] == "iamedic-desktop-test"
        provider = discover(issuer)
        assert provider.token_endpoint == f"{issuer}/token"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
