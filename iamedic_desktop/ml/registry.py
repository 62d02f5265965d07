"""The MLflow registry as the workstation reads it: versions by alias, their ONNX file, a listing.

A version's ONNX file is found the way the web's services find it (spec/domain_rules.md): the
version's run's artifacts, and the file whose name ends the version's ``source`` (for example
``.../model.onnx``); a source that is a folder (an ``mlflow.onnx`` logged model) gives its one
``*.onnx``. mlflow is imported inside the functions that use it (start-up stays light).

Timeouts are kept short for an http(s) registry (``MLFLOW_HTTP_REQUEST_TIMEOUT``,
``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, unless the environment sets them), so the window and the
CLI never wait minutes on a registry that has gone away. Every failure to reach the registry is
a ModelError naming it. Threading: a Registry may be used from any one worker thread at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamedic_desktop.core.errors import ModelError
from iamedic_desktop.core.progress import CancelledError, CancelToken
from iamedic_desktop.ml.predictor import model_version_of

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = "10"
HTTP_RETRIES = "0"  # a retry is the user's: the window and the CLI answer at once
POLL_S = 0.1
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}


@dataclass(frozen=True)
class RegistryVersion:
    """One registered model version: its number, where its files are, and its run."""

    name: str
    version: str
    source: str
    run_id: str | None
    aliases: tuple[str, ...] = ()
    created_at_ms: int | None = None

    @property
    def model_version(self) -> str:
        """The stored spelling ``<name> - <version>``."""
        return model_version_of(self.name, self.version)


@dataclass(frozen=True)
class VersionInfo:
    """A version for the admin's overview, with its run's metrics and parameters."""

    version: RegistryVersion
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its aliases (alias -> version) and versions, newest first."""

    name: str
    description: str
    aliases: dict[str, str]
    versions: list[VersionInfo]


def local_registry_db(data_dir: Path) -> Path:
    """The local registry's database, used when no tracking URI is set."""
    return data_dir / "mlflow" / "mlflow.db"


def local_artifacts(data_dir: Path) -> Path:
    """The local registry's artifact root."""
    return data_dir / "mlflow" / "artifacts"


def registry_for(tracking_uri: str | None, data_dir: Path) -> Registry:
    """The configured registry, or the local one in the data folder."""
    if tracking_uri:
        return Registry(tracking_uri)
    db = local_registry_db(data_dir)
    return Registry(f"sqlite:///{db}", where=f"{db} (the local registry)")


def _quick_http() -> None:
    # mlflow reads these on every request; the defaults (120 s, 7 retries with back-off)
    # would freeze a pull for many minutes on a registry that is down.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", HTTP_TIMEOUT_S)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", HTTP_RETRIES)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", "") or "")


class Registry:
    """The MLflow registry at ``tracking_uri`` (an http(s) server or a local sqlite registry)."""

    def __init__(self, tracking_uri: str, *, where: str | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.where = where or tracking_uri

    @property
    def is_http(self) -> bool:
        """Whether the registry is a server (rather than a file on this machine)."""
        return self.tracking_uri.startswith(("http://", "https://"))

    def exists(self) -> bool:
        """False for a local registry whose database was never made: nothing is registered."""
        if self.tracking_uri.startswith("sqlite:///"):
            return Path(self.tracking_uri.removeprefix("sqlite:///")).is_file()
        return True

    def _client(self) -> Any:
        if self.is_http:
            _quick_http()
        # Progress is ours (bytes, through the callback), not a bar mlflow draws on stderr.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        # mlflow's SQL store still asks SQLAlchemy for ``noload``, deprecated in 2.1: harmless
        # for the registry reads here, and not ours to fix.
        warnings.filterwarnings(
            "ignore", message="The ``noload`` loader strategy", category=DeprecationWarning
        )
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _unreachable(self, exc: BaseException) -> ModelError:
        text = str(exc)
        if "Connection refused" in text or "Failed to establish" in text:
            detail = "connection refused"
        elif "timed out" in text.lower() or "timeout" in text.lower():
            detail = f"no answer within {os.environ.get('MLFLOW_HTTP_REQUEST_TIMEOUT')} s"
        elif text.strip():
            detail = text.strip().splitlines()[0][:160]
        else:
            detail = type(exc).__name__
        return ModelError(
            f"The MLflow registry at {self.where} cannot be read ({detail}). Check the "
            "MLflow tracking URI in Settings and the network; models already downloaded "
            "keep working."
        )

    def _call(self, what: Callable[[Any], Any]) -> Any:
        try:
            return what(self._client())
        except ModelError:
            raise
        except Exception as exc:  # mlflow, requests and SQLAlchemy all raise their own types
            raise self._unreachable(exc) from exc

    def resolve(self, name: str, alias: str) -> RegistryVersion | None:
        """The version ``alias`` names, or None when the model or the alias is not there."""
        if not self.exists():
            return None

        def ask(client: Any) -> RegistryVersion | None:
            try:
                found = client.get_model_version_by_alias(name, alias)
            except Exception as exc:
                if _code(exc) in _NOT_FOUND:
                    return None
                raise
            return _version(found)

        result: RegistryVersion | None = self._call(ask)
        return result

    def get(self, name: str, version: str) -> RegistryVersion | None:
        """One version by number, or None when it is not registered."""
        if not self.exists():
            return None

        def ask(client: Any) -> RegistryVersion | None:
            try:
                return _version(client.get_model_version(name, version))
            except Exception as exc:
                if _code(exc) in _NOT_FOUND:
                    return None
                raise

        result: RegistryVersion | None = self._call(ask)
        return result

    def overview(self) -> list[ModelInfo]:
        """Every registered model with its aliases, versions and their runs' numbers."""
        if not self.exists():
            return []
        models: list[ModelInfo] = self._call(_overview)
        return models

    def download(
        self,
        version: RegistryVersion,
        staging: Path,
        *,
        on_bytes: Callable[[int, int], None] = lambda done, total: None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Download the version's ONNX file into ``staging`` (a new folder); returns its path.

        mlflow offers no byte callback, so the download runs on a helper thread while this one
        reports the bytes written so far and watches ``cancel``; a cancelled download's folder
        is removed by its helper once mlflow lets go of it.
        """
        if cancel is not None:
            cancel.raise_if_cancelled(f"The download of {version.model_version}")
        staging.mkdir(parents=True, exist_ok=False)
        expected = self._call(lambda client: _expected_size(client, version))
        outcome: dict[str, Any] = {}
        abandoned = threading.Event()

        def work() -> None:
            try:
                outcome["path"] = self._call(lambda client: _fetch(client, version, staging))
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc
            finally:
                if abandoned.is_set():
                    shutil.rmtree(staging, ignore_errors=True)

        helper = threading.Thread(target=work, name="model-download", daemon=True)
        helper.start()
        while helper.is_alive():
            helper.join(POLL_S)
            done = _bytes_in(staging)
            on_bytes(done, max(expected, done))
            if cancel is not None and cancel.cancelled and helper.is_alive():
                abandoned.set()
                raise CancelledError(f"The download of {version.model_version} was cancelled.")
        if "error" in outcome:
            raise outcome["error"]
        path: Path = outcome["path"]
        on_bytes(path.stat().st_size, path.stat().st_size)
        return path


def _version(found: Any) -> RegistryVersion:
    return RegistryVersion(
        name=str(found.name),
        version=str(found.version),
        source=str(found.source or ""),
        run_id=str(found.run_id) if found.run_id else None,
        aliases=tuple(getattr(found, "aliases", None) or ()),
        created_at_ms=getattr(found, "creation_timestamp", None),
    )


def _overview(client: Any) -> list[ModelInfo]:
    models: list[ModelInfo] = []
    for registered in client.search_registered_models(max_results=1000):
        # search_model_versions leaves a version's aliases out: the model's map has them.
        aliases = {str(k): str(v) for k, v in (registered.aliases or {}).items()}
        found = client.search_model_versions(f"name = '{registered.name}'")
        versions: list[VersionInfo] = []
        for one in sorted(found, key=lambda v: int(v.version), reverse=True):
            metrics: dict[str, float] = {}
            params: dict[str, str] = {}
            if one.run_id:
                try:
                    data = client.get_run(one.run_id).data
                    metrics, params = dict(data.metrics), dict(data.params)
                except Exception as exc:
                    if _code(exc) not in _NOT_FOUND:  # a deleted run keeps its version listed
                        raise
            named = tuple(sorted(a for a, v in aliases.items() if v == str(one.version)))
            found_version = dataclasses.replace(_version(one), aliases=named)
            versions.append(VersionInfo(found_version, metrics, params))
        models.append(ModelInfo(registered.name, registered.description or "", aliases, versions))
    return sorted(models, key=lambda m: m.name)


def _run_path(client: Any, version: RegistryVersion) -> str | None:
    """The source as a path inside the version's run's artifacts, when it is one."""
    if version.source.startswith("runs:/"):
        rest = version.source.removeprefix("runs:/")
        return rest.partition("/")[2] or None
    if version.run_id is None:
        return None
    root = str(client.get_run(version.run_id).info.artifact_uri).rstrip("/")
    if version.source.startswith(root + "/"):
        return version.source[len(root) + 1 :]
    # As the web does: the file whose name ends the source, among the run's artifacts.
    name = version.source.rstrip("/").rsplit("/", 1)[-1]
    listed = {Path(f.path).name for f in client.list_artifacts(version.run_id)}
    return name if name in listed else None


def _run_id(version: RegistryVersion) -> str | None:
    if version.source.startswith("runs:/"):
        return version.source.removeprefix("runs:/").partition("/")[0]
    return version.run_id


def _expected_size(client: Any, version: RegistryVersion) -> int:
    path, run_id = _run_path(client, version), _run_id(version)
    if path is None or run_id is None:
        return 0
    parent = path.rsplit("/", 1)[0] if "/" in path else None
    for info in client.list_artifacts(run_id, parent):
        if info.path == path:
            return int(info.file_size or 0) if not info.is_dir else 0
    return 0


def _fetch(client: Any, version: RegistryVersion, staging: Path) -> Path:
    path, run_id = _run_path(client, version), _run_id(version)
    if path is not None and run_id is not None:
        got = Path(client.download_artifacts(run_id, path, str(staging)))
    else:
        import mlflow.artifacts

        got = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=version.source,
                dst_path=str(staging),
                tracking_uri=client.tracking_uri,
                registry_uri=client._registry_uri,
            )
        )
    return _onnx_in(got, version)


def _onnx_in(got: Path, version: RegistryVersion) -> Path:
    if got.is_file():
        if got.suffix.lower() != ".onnx":
            raise ModelError(
                f"{version.model_version} is {got.name}, not an ONNX file: register the "
                "ONNX export of the model."
            )
        return got
    found = sorted(got.rglob("*.onnx"))
    if len(found) != 1:
        raise ModelError(
            f"{version.model_version}'s artifacts hold {len(found)} ONNX files where one was "
            "expected: register a version whose source is its .onnx file."
        )
    return found[0]


def _bytes_in(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # a temp file mlflow renamed meanwhile
                total += os.stat(os.path.join(dirpath, name)).st_size
    return total
