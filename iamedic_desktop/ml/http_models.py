"""The models run by the web's HTTP inference services (spec/domain_rules.md, "The models").

``GET /health``; ``GET /model-info`` -> {name, version, expected_width, expected_height, ...};
``POST /predict`` with {data: base64 of the 8-bit greyscale pixels, row-major, width, height}.
The service does the pre-processing itself, so the workstation sends the image's own greyscale
pixels at its own size. Every failure (unreachable, timeout, an HTTP error, an answer of the
wrong shape) is a ``ModelError`` naming the service's address; a batch either succeeds whole or
raises, so nothing half-done reaches the store.

Threading: each model object owns one ``httpx.Client`` (kept-alive connections) and is used from
one worker thread at a time; ``close()`` closes the client.
"""

from __future__ import annotations

import base64
import logging
import math
import re
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from iamedic_desktop.core.errors import InvalidInputError, ModelError
from iamedic_desktop.ml.predictor import CLASSES, PredictedBox, model_version_of
from iamedic_desktop.ml.preprocess import to_grey

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# An error detail longer than this is the service's stack trace or an HTML page, not a message.
_SHORT_DETAIL = 200
# The stored spelling, as services/media_rules.py checks it: ``<name> - <number>``.
_MODEL_VERSION = re.compile(r"\S(?:.*\S)? - [0-9]+")


class _Service:
    """One inference service's address and HTTP client, turning every failure into ModelError."""

    def __init__(self, url: str, what: str, timeout: float) -> None:
        self.url = url.strip().rstrip("/")
        self.what = what
        self.timeout = timeout
        self.client = httpx.Client(timeout=httpx.Timeout(timeout))

    def fail(self, problem: str) -> ModelError:
        """The error for this service, naming its address."""
        return ModelError(f"The {self.what} at {self.url} {problem}")

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON object the service answers to one request."""
        try:
            response = self.client.request(method, f"{self.url}{path}", json=payload)
        except httpx.TimeoutException as exc:
            raise self.fail(
                f"did not answer {path} within {self.timeout:g} s. Check that the service runs "
                "and is not overloaded, or raise the timeout."
            ) from exc
        except httpx.ConnectError as exc:
            raise self.fail(
                f"cannot be reached ({exc}). Check the address in Settings and that the service "
                "runs."
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise self.fail(
                f"closed the connection without answering {path}. Check the service's log."
            ) from exc
        except httpx.HTTPError as exc:
            raise self.fail(f"could not be asked {path}: {exc}") from exc
        if response.status_code >= 400:
            # A 404 is an address that names no inference service; anything else is in its log.
            advice = "the address in Settings" if response.status_code == 404 else "its log"
            raise self.fail(
                f"answered {path} with HTTP {response.status_code}{_detail(response)}. "
                f"Check {advice}."
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise self.wrong(path, "an answer that is not JSON") from exc
        if not isinstance(answer, dict):
            raise self.wrong(path, f"a JSON {type(answer).__name__} instead of an object")
        return answer

    def wrong(self, path: str, problem: str) -> ModelError:
        """The error for an answer that does not keep the web's contract."""
        return self.fail(
            f"answered {path} with {problem}; it does not speak the IAMEDIC inference contract. "
            "Check the address points at the right service and its version."
        )

    def model_version(self) -> str:
        """``<name> - <version>`` from the service's ``/model-info``."""
        return self.version_of(self.call("GET", "/model-info"))

    def version_of(self, info: dict[str, Any]) -> str:
        """``<name> - <version>`` from a ``/model-info`` answer."""
        name, version = info.get("name"), info.get("version")
        if not isinstance(name, str) or not name.strip():
            raise self.wrong("/model-info", f"no model name (name: {name!r})")
        if isinstance(version, bool) or not isinstance(version, str | int):
            raise self.wrong("/model-info", f"no model version (version: {version!r})")
        spelled = model_version_of(name.strip(), str(version).strip())
        if not _MODEL_VERSION.fullmatch(spelled):
            raise self.wrong("/model-info", f"a model version spelled {spelled!r}")
        log.info("🔧 The %s at %s serves %s", self.what, self.url, spelled)
        return spelled

    def predict(self, image: np.ndarray) -> tuple[dict[str, Any], str]:
        """The service's answer for one image, and the model version it names."""
        try:
            grey = to_grey(image)
        except ValueError as exc:
            raise InvalidInputError(
                f"This picture cannot be sent to the {self.what}: {exc}."
            ) from exc
        height, width = grey.shape
        payload = {
            "data": base64.b64encode(grey.tobytes()).decode("ascii"),
            "width": int(width),
            "height": int(height),
        }
        answer = self.call("POST", "/predict", payload)
        version = answer.get("model_version")
        if not isinstance(version, str) or not _MODEL_VERSION.fullmatch(version):
            raise self.wrong("/predict", f"the model version {version!r}")
        return answer, version


def _detail(response: httpx.Response) -> str:
    """The service's own explanation of an error, when it is short enough to show."""
    try:
        body = response.json()
        detail = body.get("detail") if isinstance(body, dict) else body
    except ValueError:
        detail = response.text
    text = detail if isinstance(detail, str) else str(detail) if detail else ""
    text = " ".join(text.split())
    return f" ({text})" if text and len(text) <= _SHORT_DETAIL else ""


def _number(service: _Service, value: object, what: str) -> float:
    """A finite JSON number from a /predict answer."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise service.wrong("/predict", f"{what} {value!r} where a number was expected")
    if not math.isfinite(value):
        raise service.wrong("/predict", f"{what} {value!r}, not a finite number")
    return float(value)


def _probability(service: _Service, value: object, what: str) -> float:
    number = _number(service, value, what)
    if not 0.0 <= number <= 1.0:
        raise service.wrong("/predict", f"{what} {number:g}, outside [0, 1]")
    return number


class _HttpModel:
    """What both HTTP models share: the service, the lazily read model version, close()."""

    _what = "inference service"

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._service = _Service(url, self._what, timeout)
        self._model_version: str | None = None

    @property
    def url(self) -> str:
        """The service's address."""
        return self._service.url

    @property
    def model_version(self) -> str:
        """The model the service last said it runs (``/model-info`` on first use)."""
        if self._model_version is None:
            self._model_version = self._service.model_version()
        return self._model_version

    @model_version.setter
    def model_version(self, value: str) -> None:
        self._model_version = value

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self._service.client.close()


class HttpClassifier(_HttpModel):
    """The frame classifier as the web's classifier service runs it."""

    _what = "classifier service"

    def classify(self, images: Sequence[np.ndarray]) -> list[float]:
        """One probability per image; every image scored by the same model version, or an error."""
        scores: list[float] = []
        versions: set[str] = set()
        for image in images:
            answer, version = self._service.predict(image)
            scores.append(_probability(self._service, answer.get("prediction"), "a prediction"))
            versions.add(version)
        if len(versions) > 1:
            # Storing them under one version would mislabel some; the caller may simply retry.
            raise self._service.fail(
                f"changed its model during the batch ({', '.join(sorted(versions))}). "
                "Run the prediction again."
            )
        if versions:
            self._model_version = versions.pop()
        return scores


class HttpBoxModel(_HttpModel):
    """The fetal-structure box model as the web's box service runs it."""

    _what = "box service"

    def boxes(self, image: np.ndarray) -> list[PredictedBox]:
        """The boxes found in one image, in its pixels (non-positive sizes dropped)."""
        service = self._service
        answer, version = service.predict(image)
        items = answer.get("predictions")
        if not isinstance(items, list):
            raise service.wrong("/predict", f"predictions {items!r} where a list was expected")
        found: dict[str, PredictedBox] = {}
        for item in items:
            if not isinstance(item, dict):
                raise service.wrong("/predict", f"a prediction {item!r} that is not an object")
            cls = item.get("class_name")
            if cls not in CLASSES:
                raise service.wrong("/predict", f"the unknown box class {cls!r}")
            if cls in found:
                raise service.wrong("/predict", f"two '{cls}' boxes (one per class is expected)")
            confidence = _probability(service, item.get("confidence"), f"a '{cls}' confidence")
            x, y, w, h = (
                _number(service, item.get(key), f"a '{cls}' {key}")
                for key in ("x_min", "y_min", "width", "height")
            )
            if w > 0 and h > 0:
                found[cls] = PredictedBox(cls, confidence, x, y, w, h)
        self._model_version = version
        return [found[cls] for cls in CLASSES if cls in found]


def service_health(url: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Ask a service its ``/health`` and ``/model-info`` (Settings' "Test" button).

    Returns {"address", "health": the /health answer, "model_info": the /model-info answer,
    "model_version": ``<name> - <version>``}; raises ModelError naming what went wrong.
    """
    service = _Service(url, "inference service", timeout)
    try:
        health = service.call("GET", "/health")
        info = service.call("GET", "/model-info")
        version = service.version_of(info)
    finally:
        service.client.close()
    return {"address": service.url, "health": health, "model_info": info, "model_version": version}
