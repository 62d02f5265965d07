"""Shared by the session tests: settings for the stand-in provider, sign-in through it."""

from __future__ import annotations

import threading
import urllib.request

from sqlalchemy import Engine

from iamedic_desktop.auth.oauth import SignedIn, sign_in
from iamedic_desktop.core.settings import Settings
from tests.support.idp import IdpHandle


def settings_for(idp: IdpHandle, *, central_url: str | None = None, **more: object) -> Settings:
    """Settings pointing at the stand-in provider (and a central database when given)."""
    values: dict[str, object] = {
        "oauth_issuer": idp.issuer_url,
        "oauth_client_id": idp.client_id,
        "oauth_client_secret": idp.client_secret,
        "central_url": central_url,
    }
    return Settings(**(values | more))  # type: ignore[arg-type]


def engine_url(engine: Engine) -> str:
    """The URL of ``engine`` as the settings would hold it."""
    return engine.url.render_as_string(hide_password=False)


def browser_sign_in(settings: Settings) -> SignedIn:
    """The real sign-in flow, with a thread doing the browser's part (following redirects)."""
    visits: list[threading.Thread] = []

    def visit(url: str) -> None:
        def follow() -> None:
            with urllib.request.urlopen(url, timeout=10) as answer:
                answer.read()

        thread = threading.Thread(target=follow)
        visits.append(thread)
        thread.start()

    try:
        return sign_in(settings, open_browser=False, on_url=visit, timeout=30)
    finally:
        for thread in visits:
            thread.join(timeout=15)
