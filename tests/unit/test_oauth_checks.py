"""The sign-in's own checks, without a network: discovery documents, state, token refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iamedic_desktop.auth import oauth
from iamedic_desktop.auth.discovery import Provider, _provider, is_secure_url
from iamedic_desktop.auth.id_token import _reason
from iamedic_desktop.core.errors import AuthenticationError

ISSUER = "https://login.hospital.example"


def document(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
    }
    return base | changes


def test_a_complete_discovery_document_gives_the_endpoints() -> None:
    provider = _provider(ISSUER + "/", document())
    assert provider == Provider(ISSUER, f"{ISSUER}/authorize", f"{ISSUER}/token", f"{ISSUER}/jwks")
    assert not provider.is_loopback


def test_a_document_without_an_endpoint_names_what_is_missing() -> None:
    with pytest.raises(AuthenticationError, match="does not name its token_endpoint, jwks_uri"):
        _provider(ISSUER, document(token_endpoint=None, jwks_uri=""))


def test_a_document_speaking_for_another_issuer_is_refused() -> None:
    with pytest.raises(AuthenticationError, match=r"claims to be https://evil\.example"):
        _provider(ISSUER, document(issuer="https://evil.example"))


def test_plain_http_endpoints_are_refused_unless_on_this_machine() -> None:
    with pytest.raises(AuthenticationError, match=r"not https \(token_endpoint\)"):
        _provider(ISSUER, document(token_endpoint="http://login.hospital.example/token"))
    assert is_secure_url("http://127.0.0.1:8765/token")
    assert is_secure_url("http://localhost/token")
    assert not is_secure_url("http://10.0.0.1/token")
    assert not is_secure_url("https://")


def test_an_answer_with_another_state_is_refused_even_with_a_code() -> None:
    with pytest.raises(AuthenticationError, match="state mismatch"):
        oauth._code({"code": "c", "state": "forged"}, "expected")
    with pytest.raises(AuthenticationError, match="state mismatch"):
        oauth._code({"code": "c"}, "expected")
    assert oauth._code({"code": "c", "state": "expected"}, "expected") == "c"


def test_a_provider_error_is_shown_as_a_short_code_only() -> None:
    with pytest.raises(AuthenticationError, match=r"refused the sign-in \(server_error\)\.$"):
        oauth._code({"error": "server_error<script>", "state": "s"}, "s")
    with pytest.raises(AuthenticationError, match="cancelled"):
        oauth._code({"error": "access_denied", "state": "s"}, "s")


@pytest.mark.parametrize(
    ("google_auth_message", "reason"),
    [
        ("Could not verify token signature.", "not signed by"),
        ("Certificate for key id abc not found.", "not signed by"),
        ("Token expired, 1 < 2", "has expired"),
        ("Token used too early, 2 > 1.", "not valid yet"),
        ("Token has wrong audience x, expected one of ['y']", "another application"),
        ("Wrong number of segments in token: eyJhbGciOi", "malformed"),
    ],
)
def test_each_refusal_of_google_auth_gets_its_reason(google_auth_message: str, reason: str) -> None:
    provider = Provider(ISSUER, "a", "t", "j")
    text = _reason(google_auth_message, provider)
    assert reason in text
    assert "eyJ" not in text  # google-auth may quote the token: it is never passed on


def test_the_refresh_token_is_not_in_the_repr() -> None:
    signed = oauth.SignedIn("a@b.org", "A", "1", "secret-refresh", datetime.now(UTC))
    assert "secret-refresh" not in repr(signed)
    assert "a@b.org" in repr(signed)


def test_the_claims_give_the_signed_in_user() -> None:
    claims = {"email": " Ada@Example.org ", "sub": "42", "exp": 1_800_000_000}
    signed = oauth._signed_in(claims, "")
    assert (signed.email, signed.name, signed.subject) == (
        "Ada@Example.org",
        "Ada@Example.org",
        "42",
    )
    assert signed.refresh_token is None
    assert signed.expires_at == datetime.fromtimestamp(1_800_000_000, UTC)
