"""The loopback redirect receiver of a native-app sign-in (RFC 8252): one answer on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from iamedic_desktop.core.errors import AuthenticationError

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>IAMEDIC</title></head>"
    "<body style='font-family:sans-serif'><h2>{title}</h2><p>{text}</p></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request line carries the authorization code: never written anywhere

    def do_GET(self) -> None:
        """Keep the first redirect that carries a code or an error; anything else is 404."""
        parts = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path != "/" or not ({"code", "error"} & params.keys()):
            self._page(404, "Not found", "This address only receives the sign-in answer.")
            return
        if self.server.answer is None:
            self.server.answer = params
        if "code" in params:
            self._page(200, "Sign-in received", "You can close this tab and return to IAMEDIC.")
        else:
            self._page(200, "Sign-in not completed", "Return to IAMEDIC to try again.")

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(HTTPServer):
    answer: dict[str, str] | None = None


class LoopbackReceiver:
    """An HTTP server on a free port of 127.0.0.1 that waits for the provider's redirect.

    Single-threaded: requests are served only inside ``wait``, by the thread that calls it.
    """

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)

    @property
    def redirect_uri(self) -> str:
        """The redirect URI to register with the authorization request."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def wait(self, timeout: float, cancelled: Callable[[], bool] | None = None) -> dict[str, str]:
        """The query parameters of the redirect; AuthenticationError after ``timeout`` seconds.

        Blocks the calling thread; ``cancelled`` is polled about once a second.
        """
        deadline = time.monotonic() + timeout
        while self._server.answer is None:
            if cancelled is not None and cancelled():
                raise AuthenticationError("The sign-in was cancelled.")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                minutes = max(1, round(timeout / 60))
                raise AuthenticationError(
                    f"No answer came from the sign-in page within {minutes} minute(s): "
                    "sign in again."
                )
            self._server.timeout = min(remaining, 1.0)
            self._server.handle_request()
        return self._server.answer

    def close(self) -> None:
        """Stop listening."""
        self._server.server_close()
