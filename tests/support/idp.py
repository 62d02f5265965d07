"""A stand-in OpenID Connect provider on 127.0.0.1 that approves every request as one user.

It speaks the protocol the workstation uses with Google: a discovery document, an authorization
endpoint that redirects to the loopback redirect URI with code and state, a token endpoint that
checks the client, the code, the redirect URI and the PKCE verifier (S256) and issues RS256-signed
ID tokens and refresh tokens (also for the refresh_token grant), and the JWKS of a test RSA key
made at start. Faults are switchable so tests can see each one refused.

From the command line, for trials without internet::

    uv run python -m tests.support.idp --port 8765 --email doctor@example.org --name "Dr. Ada"
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Faults:
    """What the provider gets wrong on purpose; tests switch these on and off at any time."""

    wrong_issuer: bool = False
    wrong_audience: bool = False
    expired: bool = False
    bad_signature: bool = False
    tamper_state: bool = False
    revoked: bool = False  # every refresh token is refused (access withdrawn at the provider)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@cache
def _private_key(which: int) -> rsa.RSAPrivateKey:
    # Made once per process: key generation is the slow part of starting a stand-in.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _signer(kid: str, which: int) -> tuple[crypt.RSASigner, dict[str, str]]:
    key = _private_key(which)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid}
    jwk |= {"n": _b64(numbers.n), "e": _b64(numbers.e)}
    return crypt.RSASigner.from_string(pem, key_id=kid), jwk


@dataclass
class IdpHandle:
    """A running stand-in: where it is, its client, its user, and its switchable faults."""

    issuer_url: str
    client_id: str
    client_secret: str | None
    email: str
    name: str
    faults: Faults = field(default_factory=Faults)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        kid = secrets.token_hex(8)
        self.signer, self.jwk = _signer(kid, 0)
        self.other_signer, _ = _signer(kid, 1)  # same key id, another key: a forged signature

    @property
    def subject(self) -> str:
        """The stable ``sub`` of the user, as Google gives: 21 digits from the e-mail."""
        return str(int(hashlib.sha256(self.email.encode()).hexdigest(), 16))[:21]

    @property
    def port(self) -> int:
        """The port the provider listens on."""
        return urlsplit(self.issuer_url).port or 80

    def revoke(self) -> None:
        """Forget every refresh token issued so far, as a provider does when access is removed."""
        with self.lock:
            self.refresh_tokens.clear()

    def id_token(self, nonce: str | None = None) -> str:
        """A signed ID token for the user, with the faults switched on applied."""
        now = int(time.time())
        issued = now - 7200 if self.faults.expired else now
        claims: dict[str, Any] = {
            "iss": "http://127.0.0.1:1/other" if self.faults.wrong_issuer else self.issuer_url,
            "aud": "another-client" if self.faults.wrong_audience else self.client_id,
            "azp": self.client_id,
            "sub": self.subject,
            "email": self.email,
            "email_verified": True,
            "name": self.name,
            "iat": issued,
            "exp": issued + 3600,
        }
        if nonce:
            claims["nonce"] = nonce
        signer = self.other_signer if self.faults.bad_signature else self.signer
        return jwt.encode(signer, claims).decode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # The query and body carry codes and tokens: only the method and path are ever shown.
        if self.server.verbose:
            print(f"idp: {self.command} {urlsplit(self.path).path}", flush=True)

    def do_GET(self) -> None:
        """Discovery, JWKS and the authorization endpoint."""
        idp = self.server.idp
        parts = urlsplit(self.path)
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, self._discovery(idp))
        elif parts.path == "/jwks":
            self._json(200, {"keys": [idp.jwk]})
        elif parts.path == "/authorize":
            self._authorize(idp, {k: v[0] for k, v in parse_qs(parts.query).items()})
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        """The token endpoint: authorization_code (with PKCE) and refresh_token grants."""
        idp = self.server.idp
        if urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if not self._client_ok(idp, form):
            self._json(401, {"error": "invalid_client", "error_description": "unknown client"})
        elif form.get("grant_type") == "authorization_code":
            self._code_grant(idp, form)
        elif form.get("grant_type") == "refresh_token":
            self._refresh_grant(idp, form)
        else:
            self._json(400, {"error": "unsupported_grant_type"})

    @staticmethod
    def _discovery(idp: IdpHandle) -> dict[str, Any]:
        base = idp.issuer_url
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def _authorize(self, idp: IdpHandle, query: dict[str, str]) -> None:
        redirect_uri = query.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        if query.get("client_id") != idp.client_id:
            self._json(400, {"error": "invalid_request", "error_description": "unknown client"})
            return
        if target.scheme != "http" or target.hostname not in LOOPBACK_HOSTS:
            self._json(400, {"error": "invalid_request", "error_description": "bad redirect_uri"})
            return
        reply: dict[str, str] = {"state": query.get("state", "")}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            reply["error"] = "invalid_request"
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            reply["error"] = "invalid_request"  # PKCE is required of native apps
        else:
            code = secrets.token_urlsafe(24)
            with idp.lock:
                idp.codes[code] = {
                    "redirect_uri": redirect_uri,
                    "challenge": query["code_challenge"],
                    "nonce": query.get("nonce"),
                    "scope": query.get("scope", ""),
                }
            reply["code"] = code
        if idp.faults.tamper_state:
            reply["state"] = secrets.token_urlsafe(16)
        sep = "&" if target.query else "?"
        self.send_response(302)
        self.send_header("Location", f"{redirect_uri}{sep}{urlencode(reply)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _client_ok(self, idp: IdpHandle, form: dict[str, str]) -> bool:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            decoded = base64.b64decode(basic[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        if client_id != idp.client_id:
            return False
        return idp.client_secret is None or secret == idp.client_secret

    def _code_grant(self, idp: IdpHandle, form: dict[str, str]) -> None:
        with idp.lock:
            grant = idp.codes.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            self._json(400, {"error": "invalid_grant", "error_description": "bad code"})
            return
        verifier = form.get("code_verifier", "").encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if not secrets.compare_digest(digest.decode(), grant["challenge"]):
            self._json(
                400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
            )
            return
        refresh_token = secrets.token_urlsafe(32)
        with idp.lock:
            idp.refresh_tokens.add(refresh_token)
        self._tokens(idp, grant["nonce"], grant["scope"], refresh_token)

    def _refresh_grant(self, idp: IdpHandle, form: dict[str, str]) -> None:
        with idp.lock:
            known = form.get("refresh_token") in idp.refresh_tokens and not idp.faults.revoked
        if not known:
            self._json(
                400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
            )
            return
        self._tokens(idp, None, "openid email profile", None)

    def _tokens(
        self, idp: IdpHandle, nonce: str | None, scope: str, refresh_token: str | None
    ) -> None:
        body = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": scope,
            "id_token": idp.id_token(nonce),
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        self._json(200, body)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    idp: IdpHandle
    verbose: bool = False


@contextmanager
def running_idp(
    email: str,
    name: str = "Test Doctor",
    *,
    client_id: str = "iamedic-desktop-test",
    client_secret: str | None = "installed-app-secret",
    port: int = 0,
    verbose: bool = False,
    **faults: bool,
) -> Iterator[IdpHandle]:
    """Run the stand-in on 127.0.0.1 (a free port unless ``port``) for the ``with`` block."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.verbose = verbose
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    server.idp = IdpHandle(issuer, client_id, client_secret, email, name, Faults(**faults))
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="stand-in-idp", daemon=True
    )
    thread.start()
    try:
        yield server.idp
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted, approving every request as the given user."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.idp", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", default="Test Doctor")
    parser.add_argument("--client-id", default="iamedic-desktop-test")
    parser.add_argument("--client-secret", default="installed-app-secret")
    args = parser.parse_args(argv)
    with running_idp(
        args.email,
        args.name,
        client_id=args.client_id,
        client_secret=args.client_secret or None,
        port=args.port,
        verbose=True,
    ) as idp:
        print(f"IAMEDIC_OAUTH_ISSUER={idp.issuer_url}", flush=True)
        print(f"IAMEDIC_OAUTH_CLIENT_ID={idp.client_id}", flush=True)
        print(f"IAMEDIC_OAUTH_CLIENT_SECRET={idp.client_secret or ''}", flush=True)
        print(f"idp: approving every sign-in as {idp.email}; Ctrl+C stops", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
