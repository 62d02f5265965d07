"""Sign-in through the real google-auth-oauthlib flow against the stand-in provider on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from iamedic_desktop.auth import oauth
from iamedic_desktop.auth.oauth import ProviderUnreachableError, SignedIn, refresh, sign_in
from iamedic_desktop.core.errors import AuthenticationError
from iamedic_desktop.core.settings import Settings
from tests.support.idp import IdpHandle, running_idp

EMAIL = "ada.doctor@example.org"


@pytest.fixture
def idp() -> Iterator[IdpHandle]:
    with running_idp(EMAIL, "Dr. Ada Lovelace") as handle:
        yield handle


@pytest.fixture(autouse=True)
def no_real_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> bool:
        raise AssertionError("a browser was opened")

    monkeypatch.setattr(webbrowser, "open", refuse)


def settings_for(idp: IdpHandle) -> Settings:
    return Settings(
        oauth_issuer=idp.issuer_url,
        oauth_client_id=idp.client_id,
        oauth_client_secret=idp.client_secret,
    )


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: object, **__: object) -> None:
        return None  # the 302 itself is raised, as HTTPError, with its Location


_NO_REDIRECTS = urllib.request.build_opener(_KeepRedirects)


class Browser:
    """Does the browser's part in a thread: opens the URL, follows the redirect to the loopback."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.redirects: list[str] = []
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        thread = threading.Thread(target=self._visit, args=(url,))
        self._threads.append(thread)
        thread.start()

    def _visit(self, url: str) -> None:
        # urllib, not httpx: a browser writes nothing to this process's log, and the log is
        # what the test searches for the code.
        try:
            with pytest.raises(urllib.error.HTTPError) as redirect:
                _NO_REDIRECTS.open(url, timeout=10)
            redirect.value.close()
            assert redirect.value.code == 302
            location = redirect.value.headers["Location"]
            self.redirects.append(location)
            with urllib.request.urlopen(location, timeout=10) as landing:
                assert landing.status == 200
        except BaseException as exc:  # reported by join(): a thread's failure must fail the test
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)
        assert not self.errors, self.errors


def signed_in_through(idp: IdpHandle, browser: Browser) -> SignedIn:
    try:
        return sign_in(settings_for(idp), open_browser=False, on_url=browser, timeout=20)
    finally:
        browser.join()


def test_signing_in_returns_the_verified_identity_and_a_refresh_token(
    idp: IdpHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = Browser()
    signed = signed_in_through(idp, browser)

    assert (signed.email, signed.name, signed.subject) == (EMAIL, "Dr. Ada Lovelace", idp.subject)
    assert signed.refresh_token in idp.refresh_tokens
    now = datetime.now(UTC)
    assert now + timedelta(minutes=55) < signed.expires_at < now + timedelta(minutes=65)
    # The authorization request is a native app's: PKCE S256, state, nonce, loopback redirect.
    [url] = browser.urls
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]
    assert urlsplit(query["redirect_uri"]).hostname == "127.0.0.1"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    # Neither the code nor a token is logged, nor shown by repr().
    [redirect] = browser.redirects
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    assert signed.refresh_token is not None
    for secret in (code, signed.refresh_token, idp.client_secret or "-"):
        assert secret not in caplog.text
        assert secret not in repr(signed)
    assert caplog.text  # the capture did see the sign-in's records


def test_a_refresh_gives_a_new_identity_until_the_provider_revokes_it(idp: IdpHandle) -> None:
    signed = signed_in_through(idp, Browser())
    assert signed.refresh_token is not None

    again = refresh(settings_for(idp), signed.refresh_token)
    assert (again.email, again.subject) == (signed.email, signed.subject)
    assert again.refresh_token == signed.refresh_token  # kept when the provider sends none

    idp.revoke()
    with pytest.raises(AuthenticationError, match="expired or was withdrawn") as refused:
        refresh(settings_for(idp), signed.refresh_token)
    assert not isinstance(refused.value, ProviderUnreachableError)
    assert signed.refresh_token not in str(refused.value)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("tamper_state", "state mismatch"),
        ("expired", "has expired"),
        ("wrong_audience", "issued for another application"),
        ("wrong_issuer", "not issued by http://127.0.0.1"),
        ("bad_signature", "not signed by http://127.0.0.1"),
    ],
)
def test_each_fault_is_refused_with_a_clear_message(
    idp: IdpHandle, fault: str, message: str
) -> None:
    setattr(idp.faults, fault, True)
    with pytest.raises(AuthenticationError, match=message) as refused:
        signed_in_through(idp, Browser())
    assert refused.value.message.startswith("The sign-in was refused")


def test_a_token_refreshed_with_a_fault_is_refused_too(idp: IdpHandle) -> None:
    signed = signed_in_through(idp, Browser())
    assert signed.refresh_token is not None
    idp.faults.bad_signature = True
    with pytest.raises(AuthenticationError, match="not signed by"):
        refresh(settings_for(idp), signed.refresh_token)


def test_a_wrong_pkce_verifier_is_refused_by_the_token_endpoint(
    idp: IdpHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google_auth_oauthlib.flow import Flow

    original: Callable[..., tuple[str, str]] = Flow.authorization_url

    def then_forget_the_verifier(self: Flow, **kwargs: object) -> tuple[str, str]:
        url, state = original(self, **kwargs)
        self.code_verifier = "x" * 64  # not the one whose challenge went to the provider
        return url, state

    monkeypatch.setattr(Flow, "authorization_url", then_forget_the_verifier)
    with pytest.raises(AuthenticationError, match="PKCE verification failed"):
        signed_in_through(idp, Browser())


def test_a_cancelled_sign_in_says_so(idp: IdpHandle) -> None:
    def deny(url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        redirect, state = query["redirect_uri"][0], query["state"][0]
        answer = f"{redirect}?error=access_denied&state={state}"
        threading.Thread(target=lambda: urllib.request.urlopen(answer).close()).start()

    with pytest.raises(AuthenticationError, match="cancelled at the identity provider"):
        sign_in(settings_for(idp), open_browser=False, on_url=deny, timeout=20)


def test_no_answer_from_the_browser_ends_the_wait(idp: IdpHandle) -> None:
    with pytest.raises(AuthenticationError, match="No answer came from the sign-in page"):
        sign_in(settings_for(idp), open_browser=False, on_url=lambda _: None, timeout=0.3)


def test_a_sign_in_can_be_cancelled_while_it_waits(idp: IdpHandle) -> None:
    asked = threading.Event()
    with pytest.raises(AuthenticationError, match="The sign-in was cancelled"):
        sign_in(
            settings_for(idp),
            open_browser=False,
            on_url=lambda _: asked.set(),
            timeout=20,
            cancelled=asked.is_set,
        )


def test_an_unreachable_provider_is_reported_as_such(idp: IdpHandle) -> None:
    with running_idp(EMAIL) as gone:
        settings = settings_for(gone)
    # The stand-in has stopped: its port is closed, as a provider is when there is no network.
    with pytest.raises(ProviderUnreachableError, match="cannot be reached"):
        sign_in(settings, open_browser=False, on_url=lambda _: None, timeout=5)
    with pytest.raises(ProviderUnreachableError, match="cannot be reached"):
        refresh(settings, "any-refresh-token")


def test_without_a_client_id_sign_in_says_how_to_set_it_up(idp: IdpHandle) -> None:
    settings = Settings(oauth_issuer=idp.issuer_url)
    with pytest.raises(AuthenticationError, match="IAMEDIC_OAUTH_CLIENT_ID"):
        sign_in(settings, open_browser=False)


def test_a_browser_that_cannot_open_is_reported(
    idp: IdpHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda *_, **__: False)
    with pytest.raises(AuthenticationError, match="--no-browser"):
        sign_in(settings_for(idp), timeout=5)


def test_the_module_exposes_the_agreed_interface() -> None:
    assert {"sign_in", "refresh", "SignedIn", "ProviderUnreachableError"} <= set(oauth.__all__)
    assert issubclass(ProviderUnreachableError, AuthenticationError)
