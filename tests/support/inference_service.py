"""A local stand-in of the web's HTTP inference services, running a real ONNX model.

It speaks the contract of spec/domain_rules.md ("The models") on 127.0.0.1 at a free port: a real
HTTP/1.1 server (``http.server``, one thread per connection, kept alive as the web's uvicorn
does), ``GET /health``, ``GET /model-info`` and ``POST /predict`` with {data: base64 of the 8-bit
greyscale pixels, row-major, width, height}. It decodes the pixels and runs the model through
the web's pre-processing (``iamedic_desktop.ml.onnx_model``), answering errors as FastAPI does
({"detail": ...}). A test can tell it to misbehave on an endpoint, from the n-th request on:
answer an HTTP error, sleep past the client's timeout, answer a wrong shape, or close the
connection without answering.

Threading: the server runs in its own thread; ``stop()`` wakes sleeping handlers, shuts every
open connection and joins every thread, so a test leaves nothing running.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import numpy as np

from iamedic_desktop.ml.onnx_model import OnnxBoxModel, OnnxClassifier
from iamedic_desktop.ml.predictor import CLASSES, model_version_of

Kind = Literal["classifier", "boxes"]
How = Literal["error", "sleep", "answer", "close"]

NAMES: dict[str, str] = {
    "classifier": "frame_classifier_224x224",
    "boxes": "fetal_structures_bb_regressor_224x224",
}
TITLES = {
    "CM": "Cisterna magna",
    "IT": "Intracranial translucency",
    "NT": "Nuchal translucency",
    "midbrain": "Midbrain",
    "nasal bone": "Nasal bone",
    "nasal skin": "Nasal skin",
    "nasal tip": "Nasal tip",
    "palate": "Palate",
    "thalami": "Thalami",
}


@dataclass
class Misbehaviour:
    """What the service does wrong on ``endpoint``, once ``after`` requests were served well."""

    how: How
    endpoint: str = "/predict"
    after: int = 0
    status: int = 500
    detail: str = "Internal Server Error"
    seconds: float = 0.0
    body: Any = None  # "answer": a JSON-able value, or raw bytes sent as they are
    seen: int = field(default=0)


class InferenceService:
    """The web's classifier or box service on 127.0.0.1, for one ONNX model file."""

    def __init__(self, kind: Kind, model_file: Path, *, version: str | int = 1) -> None:
        self.kind = kind
        self.name = NAMES[kind]
        self.predicted: list[tuple[int, int]] = []  # (width, height) of every image scored
        self.errors: list[BaseException] = []  # unexpected failures inside the server
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._misbehaviour: Misbehaviour | None = None
        self._connections: set[socket.socket] = set()
        self.use_model(model_file, version=version)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="inference-service", daemon=True
        )

    @property
    def url(self) -> str:
        """The service's address, as Settings would hold it."""
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def model_version(self) -> str:
        """``<name> - <version>`` of the model the service runs now."""
        return model_version_of(self.name, self.version)

    def use_model(self, model_file: Path, *, version: str | int) -> None:
        """Serve another model version from now on (the web adopted a new champion)."""
        model_version = model_version_of(NAMES[self.kind], version)
        model: OnnxClassifier | OnnxBoxModel = (
            OnnxClassifier(model_file, model_version)
            if self.kind == "classifier"
            else OnnxBoxModel(model_file, model_version)
        )
        with self._lock:
            self.version, self._model = str(version), model

    def misbehave(self, how: How, **options: Any) -> None:
        """Misbehave from now on (see ``Misbehaviour`` for the options)."""
        with self._lock:
            self._misbehaviour = Misbehaviour(how, **options)

    def behave(self) -> None:
        """Answer well again."""
        with self._lock:
            self._misbehaviour = None

    def start(self) -> InferenceService:
        """Start serving in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake sleepers, shut open connections, join every thread."""
        self._wake.set()
        self._server.shutdown()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # the client closed it already
                    connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins the connection threads (block_on_close)
        self._thread.join()
        self._model.close()

    def __enter__(self) -> InferenceService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- inside the server's threads --------------------------------------------------------

    def misbehaviour_for(self, endpoint: str) -> Misbehaviour | None:
        """The misbehaviour this request meets, if any (counting requests on its endpoint)."""
        with self._lock:
            bad = self._misbehaviour
            if bad is None or bad.endpoint != endpoint:
                return None
            bad.seen += 1
            return bad if bad.seen > bad.after else None

    def model_info(self) -> dict[str, Any]:
        """The ``/model-info`` answer."""
        info: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "expected_width": 224,
            "expected_height": 224,
        }
        if self.kind == "boxes":
            info["classes"] = list(CLASSES)
            info["class_titles"] = [TITLES[c] for c in CLASSES]
        return info

    def predict(self, request: Any) -> tuple[int, dict[str, Any]]:
        """The ``/predict`` answer (status, JSON) for a decoded request body."""
        if not isinstance(request, dict):
            return 422, {"detail": "The body must be a JSON object."}
        data, width, height = (request.get(k) for k in ("data", "width", "height"))
        if not isinstance(data, str) or not isinstance(width, int) or not isinstance(height, int):
            return 422, {"detail": "data (base64), width and height (integers) are required."}
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return 422, {"detail": "data is not base64."}
        if width <= 0 or height <= 0 or len(raw) != width * height:
            return 422, {"detail": f"{len(raw)} bytes are not {width} x {height} grey pixels."}
        grey = np.frombuffer(raw, dtype=np.uint8).reshape(height, width)
        with self._lock:
            model, version = self._model, self.model_version
            self.predicted.append((width, height))
        if isinstance(model, OnnxClassifier):
            return 200, {"prediction": model.classify([grey])[0], "model_version": version}
        boxes = [
            {
                "class_name": b.bb_class,
                "confidence": b.confidence,
                "x_min": b.x_min,
                "y_min": b.y_min,
                "width": b.width,
                "height": b.height,
            }
            for b in model.boxes(grey)
        ]
        return 200, {"predictions": boxes, "model_version": version}

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the service stops."""
        self._wake.wait(seconds)

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


class _Server(ThreadingHTTPServer):
    """The HTTP server; a failure inside a handler is recorded for the test, not printed."""

    owner: InferenceService
    daemon_threads = True
    block_on_close = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        # A client that gave up (its timeout) leaves a broken pipe: expected, not a defect.
        if error is not None and not isinstance(error, ConnectionError):
            self.owner.errors.append(error)


def _handler_for(service: InferenceService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            service.opened(self.connection)

        def finish(self) -> None:
            service.closed(self.connection)
            super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test output is for the tests

        def do_GET(self) -> None:
            if self._misbehaved(self.path):
                return
            if self.path == "/health":
                self._send(200, {"status": "ok"})
            elif self.path == "/model-info":
                self._send(200, service.model_info())
            else:
                self._send(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self._misbehaved(self.path):
                return
            if self.path != "/predict":
                self._send(404, {"detail": "Not Found"})
                return
            try:
                request = json.loads(body)
            except ValueError:
                self._send(422, {"detail": "The body is not JSON."})
                return
            self._send(*service.predict(request))

        def _misbehaved(self, endpoint: str) -> bool:
            bad = service.misbehaviour_for(endpoint)
            if bad is None:
                return False
            if bad.how == "error":
                self._send(bad.status, {"detail": bad.detail})
            elif bad.how == "sleep":
                service.sleep(bad.seconds)
                self._send(200, {"status": "late"})
            elif bad.how == "answer":
                self._send(200, bad.body)
            else:  # "close": hang up without a word
                self.close_connection = True
            return True

        def _send(self, status: int, body: Any) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler
